//! `[[build.run]]`: the user's build commands. Every value reaches the LLB
//! (argv, env, copy paths), so each is a build-configuring value: a
//! recognised token is refused like anywhere else in the build config.

use std::collections::BTreeMap;

use toml::Spanned;

use super::{env_name, Validator};
use crate::spec::raw::{RawCommand, RawRun};
use crate::spec::{BuildRun, Located, SpecError, SpecErrorKind, WorkdirPath};

impl Validator<'_> {
    pub(super) fn build_runs(
        &mut self,
        raw: &[Spanned<RawRun>],
    ) -> Result<Vec<BuildRun>, SpecError> {
        raw.iter().map(|r| self.build_run(r)).collect()
    }

    fn build_run(&mut self, spanned: &Spanned<RawRun>) -> Result<BuildRun, SpecError> {
        let r = spanned.get_ref();
        let argv = match r.command.get_ref() {
            RawCommand::Argv(argv) => argv,
            RawCommand::Text => {
                return Err(SpecError::new(
                    r.command.span(),
                    SpecErrorKind::CommandNotArgv,
                ))
            }
        };
        let command = argv
            .iter()
            .map(|a| self.plain(a, "build command"))
            .collect::<Result<Vec<_>, _>>()?;
        if command.first().is_none_or(String::is_empty) {
            let span = argv.first().map_or_else(|| r.command.span(), Spanned::span);
            return Err(SpecError::new(span, SpecErrorKind::EmptyCommand));
        }
        let outputs = r
            .outputs
            .iter()
            .map(|o| {
                Ok(Located {
                    value: self.checked(o, "output", WorkdirPath::parse)?,
                    span: o.span(),
                })
            })
            .collect::<Result<Vec<_>, SpecError>>()?;
        let mut env = BTreeMap::new();
        for (k, v) in &r.env {
            env.insert(env_name(k)?, self.plain(v, "build command environment")?);
        }
        Ok(BuildRun {
            command,
            outputs,
            env,
            network: r.network.as_ref().is_some_and(|n| *n.get_ref()),
            span: spanned.span(),
        })
    }
}
