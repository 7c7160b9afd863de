//! `build` against a fake BuildKit: an in-process LLBBridge server over an
//! in-memory pipe. Every call waits for its round to be answered; a round
//! ends when the build waits on nothing but the fake's answers (tokio's
//! paused clock auto-advances only then, so the driver's sleep is an idle
//! detector, never a time bound). Proves the round trips by counting.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard_buildkit_proto::moby::buildkit::v1::apicaps::ApiCap;
use bollard_buildkit_proto::moby::buildkit::v1::frontend::{
    self as fpb,
    llb_bridge_server::{LlbBridge, LlbBridgeServer},
};
use bollard_buildkit_proto::moby::buildkit::v1::types::WorkerRecord;
use bollard_buildkit_proto::pb;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::watch;
use tonic::transport::{Endpoint, Uri};
use tonic::{Request, Response, Status};

use super::build::build;
use super::caps::REQUIRED_API_CAPS;
use super::gateway::Bridge;
use super::trace::Trace;
use super::FrontendError;

const SPEC: &str = "[app]\nbase = \"python:3.12-slim\"\n\n[install]\nwith = \"pip\"\nrequirements = [\"requirements.txt\"]\n";

/// `SPEC` with a non-root app user: no lint warning.
const SPEC_AS_APP: &str = "[app]\nbase = \"python:3.12-slim\"\nuser = \"app\"\n\n[install]\nwith = \"pip\"\nrequirements = [\"requirements.txt\"]\n";

const PYTHON_CONFIG: &str = r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin","PYTHON_VERSION=3.12.7"],"Cmd":["python3"]},"rootfs":{"type":"layers","diff_ids":[]}}"#;

/// The LLB caps of an engine without merge and diff ops (the copy path).
const LLB_CAPS: &[&str] = &[
    "constraints",
    "exec.meta.base",
    "exec.meta.network",
    "exec.mount.bind",
    "exec.mount.cache",
    "exec.mount.cache.sharing",
    "exec.mount.secret",
    "exec.mount.selector",
    "exec.secretenv",
    "file.base",
    "file.copy.includeexcludepatterns",
    "meta.description",
    "meta.ignorecache",
    "platform",
    "source.image",
    "source.image.resolvemode",
    "source.local",
    "source.local.excludepatterns",
    "source.local.includepatterns",
    "source.local.sessionid",
    "source.local.sharedkeyhint",
];

#[derive(Clone)]
struct Fake {
    spec: Option<&'static str>,
    ping_fails: bool,
    warn_fails: bool,
    caps: Vec<&'static str>,
    /// The round being issued; the calls in earlier ones are answered.
    answered: watch::Sender<usize>,
    /// Each call: its round and what it asked.
    log: Arc<Mutex<Vec<(usize, String)>>>,
}

impl Fake {
    fn new() -> Self {
        Self {
            spec: Some(SPEC),
            ping_fails: false,
            warn_fails: false,
            caps: REQUIRED_API_CAPS.to_vec(),
            answered: watch::Sender::new(0),
            log: Arc::default(),
        }
    }

    /// Records `call` in the current round and waits for it to be answered.
    async fn call(&self, call: String) {
        let round = *self.answered.borrow();
        self.log.lock().unwrap().push((round, call));
        let mut rx = self.answered.subscribe();
        let _ = rx.wait_for(|r| *r > round).await;
    }

    fn rounds(&self) -> Vec<Vec<String>> {
        let mut rounds: Vec<Vec<String>> = Vec::new();
        for (round, call) in self.log.lock().unwrap().iter() {
            rounds.resize_with(rounds.len().max(round + 1), Vec::new);
            rounds[*round].push(call.clone());
        }
        for calls in &mut rounds {
            calls.sort();
        }
        rounds
    }
}

#[tonic::async_trait]
impl LlbBridge for Fake {
    async fn ping(
        &self,
        _: Request<fpb::PingRequest>,
    ) -> Result<Response<fpb::PongResponse>, Status> {
        self.call("Ping".to_owned()).await;
        if self.ping_fails {
            return Err(Status::unavailable("no engine"));
        }
        let enabled = |ids: &[&str]| {
            ids.iter()
                .map(|id| ApiCap {
                    id: (*id).to_owned(),
                    enabled: true,
                    ..ApiCap::default()
                })
                .collect()
        };
        Ok(Response::new(fpb::PongResponse {
            frontend_api_caps: enabled(&self.caps),
            llb_caps: enabled(LLB_CAPS),
            workers: vec![WorkerRecord {
                platforms: vec![pb::Platform {
                    os: "linux".to_owned(),
                    architecture: "amd64".to_owned(),
                    ..pb::Platform::default()
                }],
                ..WorkerRecord::default()
            }],
        }))
    }

    async fn solve(
        &self,
        request: Request<fpb::SolveRequest>,
    ) -> Result<Response<fpb::SolveResponse>, Status> {
        let request = request.into_inner();
        let ops = request.definition.map_or(0, |d| d.def.len());
        // A local source and its terminal op: a file read.
        let what = match (ops <= 2, request.evaluate) {
            (true, _) => "Solve local",
            (false, false) => "Solve image",
            (false, true) => "Solve load check",
        };
        self.call(what.to_owned()).await;
        Ok(Response::new(fpb::SolveResponse {
            result: Some(fpb::Result {
                result: Some(fpb::result::Result::Ref(fpb::Ref {
                    id: "ref".to_owned(),
                    def: None,
                })),
                ..fpb::Result::default()
            }),
            ..fpb::SolveResponse::default()
        }))
    }

    async fn read_file(
        &self,
        request: Request<fpb::ReadFileRequest>,
    ) -> Result<Response<fpb::ReadFileResponse>, Status> {
        let path = request.into_inner().file_path;
        self.call(format!("ReadFile {path}")).await;
        let data = match path.as_str() {
            "pyfront.toml" => self.spec,
            "requirements.txt" => Some("requests==2.32.3\n"),
            _ => None,
        };
        match data {
            Some(d) => Ok(Response::new(fpb::ReadFileResponse {
                data: d.as_bytes().to_vec(),
            })),
            None => Err(Status::not_found(format!(
                "open {path}: no such file or directory"
            ))),
        }
    }

    async fn resolve_image_config(
        &self,
        request: Request<fpb::ResolveImageConfigRequest>,
    ) -> Result<Response<fpb::ResolveImageConfigResponse>, Status> {
        self.call(format!("ResolveImageConfig {}", request.into_inner().r#ref))
            .await;
        Ok(Response::new(fpb::ResolveImageConfigResponse {
            digest: format!("sha256:{}", "0".repeat(64)),
            config: PYTHON_CONFIG.as_bytes().to_vec(),
            ..fpb::ResolveImageConfigResponse::default()
        }))
    }

    async fn warn(
        &self,
        _: Request<fpb::WarnRequest>,
    ) -> Result<Response<fpb::WarnResponse>, Status> {
        self.call("Warn".to_owned()).await;
        if self.warn_fails {
            return Err(Status::unavailable("no warnings today"));
        }
        Ok(Response::new(fpb::WarnResponse {}))
    }

    async fn r#return(
        &self,
        _: Request<fpb::ReturnRequest>,
    ) -> Result<Response<fpb::ReturnResponse>, Status> {
        Err(Status::unimplemented("Return"))
    }

    async fn resolve_source_meta(
        &self,
        _: Request<fpb::ResolveSourceMetaRequest>,
    ) -> Result<Response<fpb::ResolveSourceMetaResponse>, Status> {
        Err(Status::unimplemented("ResolveSourceMeta"))
    }

    async fn read_dir(
        &self,
        _: Request<fpb::ReadDirRequest>,
    ) -> Result<Response<fpb::ReadDirResponse>, Status> {
        Err(Status::unimplemented("ReadDir"))
    }

    async fn stat_file(
        &self,
        _: Request<fpb::StatFileRequest>,
    ) -> Result<Response<fpb::StatFileResponse>, Status> {
        Err(Status::unimplemented("StatFile"))
    }

    async fn evaluate(
        &self,
        _: Request<fpb::EvaluateRequest>,
    ) -> Result<Response<fpb::EvaluateResponse>, Status> {
        Err(Status::unimplemented("Evaluate"))
    }

    async fn inputs(
        &self,
        _: Request<fpb::InputsRequest>,
    ) -> Result<Response<fpb::InputsResponse>, Status> {
        Err(Status::unimplemented("Inputs"))
    }

    async fn new_container(
        &self,
        _: Request<fpb::NewContainerRequest>,
    ) -> Result<Response<fpb::NewContainerResponse>, Status> {
        Err(Status::unimplemented("NewContainer"))
    }

    async fn release_container(
        &self,
        _: Request<fpb::ReleaseContainerRequest>,
    ) -> Result<Response<fpb::ReleaseContainerResponse>, Status> {
        Err(Status::unimplemented("ReleaseContainer"))
    }

    type ExecProcessStream = tonic::codegen::tokio_stream::Empty<Result<fpb::ExecMessage, Status>>;

    async fn exec_process(
        &self,
        _: Request<tonic::Streaming<fpb::ExecMessage>>,
    ) -> Result<Response<Self::ExecProcessStream>, Status> {
        Err(Status::unimplemented("ExecProcess"))
    }

    async fn read_file_container(
        &self,
        _: Request<fpb::ReadFileRequest>,
    ) -> Result<Response<fpb::ReadFileResponse>, Status> {
        Err(Status::unimplemented("ReadFileContainer"))
    }

    async fn read_dir_container(
        &self,
        _: Request<fpb::ReadDirRequest>,
    ) -> Result<Response<fpb::ReadDirResponse>, Status> {
        Err(Status::unimplemented("ReadDirContainer"))
    }

    async fn stat_file_container(
        &self,
        _: Request<fpb::StatFileRequest>,
    ) -> Result<Response<fpb::StatFileResponse>, Status> {
        Err(Status::unimplemented("StatFileContainer"))
    }
}

/// A client connected to `fake` over an in-memory pipe.
async fn connect(fake: Fake) -> Bridge {
    let (client, server) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        let service = hyper_util::service::TowerToHyperService::new(LlbBridgeServer::new(fake));
        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(server), service)
            .await;
    });
    let client = Arc::new(Mutex::new(Some(client)));
    let connector = tower::service_fn(move |_: Uri| {
        let io = client.lock().unwrap().take();
        async move {
            io.map(TokioIo::new)
                .ok_or_else(|| std::io::Error::other("used"))
        }
    });
    Bridge::new(
        Endpoint::from_static("http://fake")
            .connect_with_connector(connector)
            .await
            .unwrap(),
    )
}

/// Runs `build` against `fake`, answering one round each time the build
/// waits on nothing else. Returns the result and the trace.
async fn run(
    fake: &Fake,
    opts: &[(&str, &str)],
) -> (Result<super::result::BuildResult, FrontendError>, Trace) {
    let bridge = connect(fake.clone()).await;
    let mut raw: BTreeMap<String, String> = opts
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    raw.entry("filename".to_owned())
        .or_insert_with(|| "pyfront.toml".to_owned());
    let trace = Trace::new(Instant::now());
    let answer = async {
        // A bound on rounds, not on time.
        for _ in 0..32 {
            // Fires only once every other task waits (paused clock).
            tokio::time::sleep(Duration::from_secs(1)).await;
            let round = *fake.answered.borrow();
            let issued = fake.log.lock().unwrap().iter().any(|(r, _)| *r == round);
            assert!(issued, "the build waits on no call: {:?}", fake.rounds());
            fake.answered.send_replace(round + 1);
        }
        panic!("more than 32 rounds: {:?}", fake.rounds());
    };
    let result = tokio::select! {
        result = build(&bridge, &raw, &trace) => result,
        () = answer => unreachable!(),
    };
    (result, trace)
}

/// The first four rounds of every build of `SPEC`.
fn first_four() -> Vec<Vec<&'static str>> {
    vec![
        vec!["Ping", "Solve local"],
        vec!["ReadFile pyfront.toml"],
        vec![
            "ResolveImageConfig docker.io/library/python:3.12-slim",
            "ResolveImageConfig docker.io/library/python:3.12-slim",
            "Solve local",
        ],
        vec!["ReadFile .dockerignore", "ReadFile requirements.txt"],
    ]
}

#[tokio::test(start_paused = true)]
async fn four_sequential_rounds_before_the_final_solve() {
    let fake = Fake {
        spec: Some(SPEC_AS_APP),
        ..Fake::new()
    };
    let (result, trace) = run(&fake, &[]).await;
    result.unwrap();
    let mut expected = first_four();
    expected.push(vec!["Solve image", "Solve load check"]);
    assert_eq!(fake.rounds(), expected);
    assert_eq!(trace.rounds_before_final_solve(), 4);
    // The timing log: one line per call (10), then the count.
    let lines = trace.lines();
    assert_eq!(lines.len(), 11, "{lines:#?}");
    assert!(lines[..10]
        .iter()
        .all(|l| l.starts_with("pyfront: timing: gateway call ")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("pyfront: timing: gateway call Solve image linux/amd64 from ")));
    assert_eq!(
        lines[10],
        "pyfront: timing: 4 sequential gateway rounds before the first final Solve"
    );
}

#[tokio::test(start_paused = true)]
async fn warnings_go_out_beside_the_final_solve() {
    // The python image runs as root: one lint warning.
    let mut caps = REQUIRED_API_CAPS.to_vec();
    caps.push("gateway.warnings");
    let fake = Fake {
        caps,
        ..Fake::new()
    };
    let (result, trace) = run(&fake, &[]).await;
    result.unwrap();
    let mut expected = first_four();
    expected.push(vec!["Solve image", "Solve load check", "Warn"]);
    assert_eq!(fake.rounds(), expected);
    assert_eq!(trace.rounds_before_final_solve(), 4);
}

#[tokio::test(start_paused = true)]
async fn warnings_without_the_warn_cap_go_out_beside_the_final_solve() {
    let fake = Fake::new();
    let (result, _) = run(&fake, &[]).await;
    result.unwrap();
    let mut expected = first_four();
    expected.push(vec!["Solve image", "Solve load check", "Solve local"]);
    expected.push(vec!["ReadFile .pyfront-warning-nothing"]);
    assert_eq!(fake.rounds(), expected);
}

#[tokio::test(start_paused = true)]
async fn describe_reads_no_spec() {
    let fake = Fake::new();
    let (result, _) = run(&fake, &[("requestid", crate::options::DESCRIBE)]).await;
    result.unwrap();
    assert_eq!(fake.rounds(), [vec!["Ping"]]);
}

#[tokio::test(start_paused = true)]
async fn a_ping_error_wins_over_a_missing_spec() {
    let fake = Fake {
        spec: None,
        ping_fails: true,
        ..Fake::new()
    };
    let (result, _) = run(&fake, &[]).await;
    let error = result.err().unwrap();
    assert!(
        matches!(error, FrontendError::Rpc { call: "Ping", .. }),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_cap_wins_over_a_missing_spec() {
    let fake = Fake {
        spec: None,
        caps: vec!["solve.base"],
        ..Fake::new()
    };
    let (result, _) = run(&fake, &[]).await;
    let error = result.err().unwrap();
    assert!(matches!(error, FrontendError::Caps(_)), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_bad_opt_wins_over_a_missing_spec_and_reads_nothing() {
    let fake = Fake {
        spec: None,
        ..Fake::new()
    };
    let (result, _) = run(&fake, &[("target", "nope")]).await;
    let error = result.err().unwrap();
    assert!(matches!(error, FrontendError::Opts(_)), "{error}");
    assert_eq!(fake.rounds(), [vec!["Ping"]]);
}

#[tokio::test(start_paused = true)]
async fn a_missing_spec_is_the_same_error_as_before() {
    let fake = Fake {
        spec: None,
        ..Fake::new()
    };
    let (result, _) = run(&fake, &[]).await;
    let error = result.err().unwrap();
    assert_eq!(
        error.chain(),
        "cannot read the spec `pyfront.toml`; pass it with `docker build -f pyfront.toml`: open pyfront.toml: no such file or directory"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_warn_fails_the_build_as_before() {
    let mut caps = REQUIRED_API_CAPS.to_vec();
    caps.push("gateway.warnings");
    let fake = Fake {
        caps,
        warn_fails: true,
        ..Fake::new()
    };
    let (result, _) = run(&fake, &[]).await;
    let error = result.err().unwrap();
    assert!(
        matches!(error, FrontendError::Rpc { call: "Warn", .. }),
        "{error}"
    );
}
