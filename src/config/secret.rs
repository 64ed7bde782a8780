//! Secrets (passwords, tokens, database URLs): where they come from, and never printing them.
//!
//! A secret is written in the config as one string:
//! - `file:/path/to/file` reads the file (trailing newline removed);
//! - `credential:NAME` reads `$CREDENTIALS_DIRECTORY/NAME` (systemd `LoadCredential=`);
//! - `env:VAR` reads an environment variable;
//! - `literal:TEXT`, or any other text, is the secret itself.
//!
//! `Debug` and `Display` print `<redacted>`, so a secret cannot reach the logs by accident.

use std::fmt;

use anyhow::{Context, bail};
use serde::{Deserialize, Deserializer};

#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// How it was written in the config (kept for error messages; never the secret itself
    /// unless it is a literal, which is why `Debug` does not print it).
    source: String,
}

impl Secret {
    pub fn literal(value: impl Into<String>) -> Self {
        Secret {
            source: format!("literal:{}", value.into()),
        }
    }

    /// Where the secret comes from, safe to print: the literal form prints as `literal`.
    pub fn origin(&self) -> String {
        match self.source.split_once(':') {
            Some(("file" | "credential" | "env", _)) => self.source.clone(),
            _ => "literal".to_owned(),
        }
    }

    /// Reads the secret now. Errors name the origin, never the value.
    pub fn expose(&self) -> anyhow::Result<String> {
        match self.source.split_once(':') {
            Some(("file", path)) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading secret file {path}"))?;
                Ok(text.trim_end_matches(['\n', '\r']).to_owned())
            }
            Some(("credential", name)) => {
                let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
                    bail!("secret credential:{name}: $CREDENTIALS_DIRECTORY is not set");
                };
                let path = std::path::Path::new(&dir).join(name);
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading credential {}", path.display()))?;
                Ok(text.trim_end_matches(['\n', '\r']).to_owned())
            }
            Some(("env", var)) => {
                std::env::var(var).with_context(|| format!("secret env:{var}: variable not set"))
            }
            Some(("literal", value)) => Ok(value.to_owned()),
            _ => Ok(self.source.clone()),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.origin())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        if source.is_empty() {
            return Err(serde::de::Error::custom("empty secret"));
        }
        Ok(Secret { source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_literal() {
        let s = Secret::literal("hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        assert_eq!(s.expose().unwrap(), "hunter2");
    }

    #[test]
    fn file_secret_strips_newline_and_names_path_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        let s = Secret {
            source: format!("file:{}", path.display()),
        };
        assert_eq!(s.expose().unwrap(), "s3cret");
        let missing = Secret {
            source: "file:/nonexistent/pw".into(),
        };
        let err = format!("{:#}", missing.expose().unwrap_err());
        assert!(err.contains("/nonexistent/pw"), "{err}");
    }

    #[test]
    fn plain_text_is_literal() {
        let s = Secret {
            source: "abc:def".into(),
        };
        assert_eq!(s.expose().unwrap(), "abc:def");
        assert_eq!(s.origin(), "literal");
    }
}
