//! Environment overrides: `CONVENE__SECTION__KEY=value` applied to the parsed TOML.

use anyhow::{anyhow, bail};

pub(super) fn apply_override(
    root: &mut toml::Value,
    path: &[String],
    raw: &str,
) -> anyhow::Result<()> {
    let parsed = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    let mut node = root;
    for (i, part) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        node = match node {
            toml::Value::Table(t) => {
                if last {
                    t.insert(part.clone(), parsed);
                    return Ok(());
                }
                let next_is_index = path[i + 1].parse::<usize>().is_ok();
                t.entry(part.clone()).or_insert_with(|| {
                    if next_is_index {
                        toml::Value::Array(Vec::new())
                    } else {
                        toml::Value::Table(Default::default())
                    }
                })
            }
            toml::Value::Array(a) => {
                let idx: usize = part
                    .parse()
                    .map_err(|_| anyhow!("`{part}` is not an index"))?;
                if idx > a.len() {
                    bail!("index {idx} skips elements (array has {})", a.len());
                }
                if idx == a.len() {
                    a.push(toml::Value::Table(Default::default()));
                }
                if last {
                    a[idx] = parsed;
                    return Ok(());
                }
                &mut a[idx]
            }
            _ => bail!("`{part}` is inside a value that is not a table"),
        };
    }
    Ok(())
}
