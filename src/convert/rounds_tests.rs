//! Counts the conversion's sequential round trips with a fake [`Inputs`]
//! whose every call waits for its round to be answered. A round ends when
//! the conversion can make no progress without an answer: then every call
//! issued so far is answered at once. Counting only, never the clock.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::{convert, ConvertError, InputError, Inputs};
use crate::image::{BaseConfig, Platform};
use crate::options::BuildOptions;

#[derive(Default)]
struct Fake {
    files: BTreeMap<String, Vec<u8>>,
    /// Image resolution fails with this message.
    image_error: Option<&'static str>,
    /// Extra rounds a context read waits (an engine slower to read the
    /// context than to resolve an image).
    context_delay: usize,
    /// The round being issued (all earlier ones are answered).
    round: Cell<usize>,
    /// Each call: the round it was issued in, the last round it waits
    /// through, and what it asked.
    log: RefCell<Vec<(usize, usize, String)>>,
}

/// Ready once the conversion has been driven past round `until`.
struct Answer<'a> {
    fake: &'a Fake,
    until: usize,
}

impl Future for Answer<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.fake.round.get() > self.until {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Fake {
    fn issue(&self, call: String, delay: usize) -> Answer<'_> {
        let round = self.round.get();
        self.log.borrow_mut().push((round, round + delay, call));
        Answer {
            fake: self,
            until: round + delay,
        }
    }

    /// Drives `future` round by round; returns its output and the number
    /// of rounds answered.
    fn drive<F: Future>(&self, future: F) -> (F::Output, usize) {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        // A bound on rounds, not on time: the conversion never needs many.
        for _ in 0..16 {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return (out, self.round.get());
            }
            let round = self.round.get();
            assert!(
                self.log
                    .borrow()
                    .iter()
                    .any(|(_, until, _)| *until >= round),
                "the conversion waits on no call"
            );
            self.round.set(round + 1);
        }
        panic!("more than 16 rounds");
    }

    fn calls_in(&self, round: usize) -> Vec<String> {
        let log = self.log.borrow();
        log.iter()
            .filter(|(r, _, _)| *r == round)
            .map(|(_, _, c)| c.clone())
            .collect()
    }
}

impl Inputs for Fake {
    async fn context_files(&self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, InputError> {
        self.issue(format!("context {}", paths.join(" ")), self.context_delay)
            .await;
        Ok(paths.iter().map(|p| self.files.get(p).cloned()).collect())
    }

    async fn image_config(
        &self,
        image: &str,
        platform: &Platform,
    ) -> Result<Option<BaseConfig>, InputError> {
        self.issue(format!("image {image} {}", platform.architecture), 0)
            .await;
        match self.image_error {
            Some(what) => Err(InputError {
                what: what.to_owned(),
                source: Box::new(std::io::Error::other("unreachable")),
            }),
            None => Ok(None),
        }
    }
}

const SPEC: &str = "[app]\nbase = \"python:3.12-slim\"\n\n[install]\nwith = \"pip\"\nrequirements = [\"requirements.txt\"]\n";

fn fake(requirements: Option<&str>) -> Fake {
    let mut files = BTreeMap::new();
    if let Some(text) = requirements {
        files.insert("requirements.txt".to_owned(), text.as_bytes().to_vec());
    }
    files.insert("more.txt".to_owned(), b"flask==3.0.0\n".to_vec());
    Fake {
        files,
        ..Fake::default()
    }
}

fn run(fake: &Fake, platforms: &[Platform]) -> (Result<super::Converted, ConvertError>, usize) {
    let options = BuildOptions::parse(&BTreeMap::new()).unwrap();
    fake.drive(convert(
        SPEC.as_bytes(),
        &options,
        platforms,
        fake,
        "2024-01-01T00:00:00Z",
    ))
}

fn arm64() -> Platform {
    Platform::parse("linux/arm64").unwrap()
}

#[test]
fn context_files_and_every_image_config_share_one_round() {
    let fake = fake(Some("requests==2.32.3\n"));
    let (converted, rounds) = run(&fake, &[Platform::linux_amd64(), arm64()]);
    converted.unwrap();
    assert_eq!(rounds, 1, "{:?}", fake.log.borrow());
    let first = fake.calls_in(0);
    assert!(first.contains(&"context .dockerignore requirements.txt".to_owned()));
    // The builder and the runtime base (the same image here) of each
    // platform, after the context read.
    let image = "image docker.io/library/python:3.12-slim";
    assert_eq!(
        first[1..],
        [
            format!("{image} amd64"),
            format!("{image} amd64"),
            format!("{image} arm64"),
            format!("{image} arm64"),
        ]
    );
}

#[test]
fn an_include_level_adds_one_round() {
    let fake = fake(Some("-r more.txt\n"));
    let (converted, rounds) = run(&fake, &[Platform::linux_amd64()]);
    converted.unwrap();
    assert_eq!(rounds, 2, "{:?}", fake.log.borrow());
    assert_eq!(fake.calls_in(1), ["context more.txt"]);
}

#[test]
fn an_install_input_error_wins_over_an_image_error() {
    // The image error is answered a round before the missing file is.
    let fake = Fake {
        image_error: Some("cannot resolve the image"),
        context_delay: 1,
        ..fake(None)
    };
    let (converted, _) = run(&fake, &[Platform::linux_amd64()]);
    let error = converted.err().unwrap();
    assert!(matches!(error, ConvertError::Spec(_)), "{error}");
    assert!(error.to_string().contains("requirements.txt"), "{error}");
}

#[test]
fn an_image_error_shows_when_the_install_inputs_are_fine() {
    let fake = Fake {
        image_error: Some("cannot resolve the image"),
        context_delay: 1,
        ..fake(Some("requests==2.32.3\n"))
    };
    let (converted, _) = run(&fake, &[Platform::linux_amd64()]);
    let error = converted.err().unwrap();
    assert_eq!(error.to_string(), "cannot resolve the image");
}

#[test]
fn an_install_input_error_answered_first_returns_at_once() {
    let fake = Fake {
        image_error: Some("cannot resolve the image"),
        ..fake(None)
    };
    let (converted, rounds) = run(&fake, &[Platform::linux_amd64()]);
    assert!(matches!(converted, Err(ConvertError::Spec(_))));
    assert_eq!(rounds, 1);
}
