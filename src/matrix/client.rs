//! The bot's Matrix client: logs in once with the password, then persists the session so every
//! restart reuses the same device (and its encryption keys, kept in the SQLite crypto store).
//!
//! Files under `<state_dir>/matrix/`: `session.json` (user id, device id, access token; mode
//! 0600) and `store/` (matrix-sdk's SQLite state, event cache and crypto stores).

use std::path::Path;

use anyhow::Context;
use matrix_sdk::Client;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;

use crate::config::MatrixConfig;

pub async fn connect(config: &MatrixConfig, state_dir: &Path) -> anyhow::Result<Client> {
    let dir = state_dir.join("matrix");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let passphrase = config
        .store_passphrase
        .as_ref()
        .map(|s| s.expose())
        .transpose()?;
    let client = Client::builder()
        .homeserver_url(&config.homeserver)
        .sqlite_store(dir.join("store"), passphrase.as_deref())
        .request_config(
            // Few retries inside the SDK: the outbox and the sync loop retry themselves, for
            // as long as it takes.
            RequestConfig::new()
                .retry_limit(2)
                .timeout(std::time::Duration::from_secs(60)),
        )
        .build()
        .await
        .context("building the Matrix client")?;
    let session_file = dir.join("session.json");
    if session_file.exists() {
        let text = std::fs::read_to_string(&session_file)?;
        let session: MatrixSession =
            serde_json::from_str(&text).context("reading the saved Matrix session")?;
        client
            .restore_session(session)
            .await
            .context("restoring the Matrix session")?;
        // Fails fast with a clear error if the token was revoked.
        let whoami = client.whoami().await.context("checking the saved Matrix session (delete matrix/session.json and matrix/store to log in anew)")?;
        tracing::info!(user = %whoami.user_id, device = ?client.device_id(), "Matrix session restored");
    } else {
        let password = config.secret.expose()?;
        client
            .matrix_auth()
            .login_username(&config.user, &password)
            .initial_device_display_name(&config.device_name)
            .send()
            .await
            .with_context(|| format!("logging in to Matrix as {}", config.user))?;
        let session = client
            .matrix_auth()
            .session()
            .context("no session after login")?;
        save_session(&session_file, &session)?;
        tracing::info!(device = ?client.device_id(), "logged in to Matrix; session saved");
    }
    Ok(client)
}

fn save_session(path: &Path, session: &MatrixSession) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(serde_json::to_string(session)?.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
