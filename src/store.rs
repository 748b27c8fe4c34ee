//! Runtime state that survives restarts, in an embedded crash-safe database in the state
//! directory: prefixes an operator announced at run time, and neighbors the operator
//! disabled.
//!
//! The database is redb: pure Rust (so the static aarch64-musl and illumos builds need no C
//! cross-compiler, unlike SQLite), crash-safe by copy-on-write commits with checksums, and
//! small. Values are stored in BGP's own encoding: an originated prefix's attributes are
//! kept as the path attribute bytes tern's codec writes and reads, so the format needs no
//! second serializer and is as stable as the protocol.

use std::path::{Path, PathBuf};

use anyhow::Context;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::wire::{Ctx, PathAttributes, Prefix};

const ORIGINS: TableDefinition<&str, &[u8]> = TableDefinition::new("origins");
/// Neighbor address → the reason given when it was disabled (may be empty).
const DISABLED: TableDefinition<&str, &str> = TableDefinition::new("disabled");

pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates) `dir/tern.redb`.
    pub fn open(dir: &Path) -> anyhow::Result<Store> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the state directory {}", dir.display()))?;
        let path = dir.join("tern.redb");
        let db =
            Database::create(&path).with_context(|| format!("cannot open the state database {}", path.display()))?;
        let w = db.begin_write()?;
        w.open_table(ORIGINS)?;
        w.open_table(DISABLED)?;
        w.commit()?;
        Ok(Store { db, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records an announced prefix; replaces an earlier record of the same prefix.
    pub fn put_origin(&self, prefix: Prefix, attrs: &PathAttributes) -> anyhow::Result<()> {
        let mut value = Vec::new();
        attrs.encode(&Ctx::new(), &mut value);
        let w = self.db.begin_write()?;
        w.open_table(ORIGINS)?.insert(prefix.to_string().as_str(), value.as_slice())?;
        w.commit().with_context(|| format!("cannot store the announcement of {prefix}"))?;
        Ok(())
    }

    /// Forgets an announced prefix; false when it was not recorded.
    pub fn remove_origin(&self, prefix: Prefix) -> anyhow::Result<bool> {
        let w = self.db.begin_write()?;
        let removed = w.open_table(ORIGINS)?.remove(prefix.to_string().as_str())?.is_some();
        w.commit().with_context(|| format!("cannot store the withdrawal of {prefix}"))?;
        Ok(removed)
    }

    /// Records that the operator disabled the neighbor at `address` (or, with `None`, that
    /// it is enabled again).
    pub fn set_disabled(&self, address: std::net::IpAddr, reason: Option<&str>) -> anyhow::Result<()> {
        let w = self.db.begin_write()?;
        {
            let mut t = w.open_table(DISABLED)?;
            match reason {
                Some(r) => {
                    t.insert(address.to_string().as_str(), r)?;
                }
                None => {
                    t.remove(address.to_string().as_str())?;
                }
            }
        }
        w.commit().with_context(|| format!("cannot store the disabled state of {address}"))?;
        Ok(())
    }

    /// The reason given when the operator disabled the neighbor at `address` (possibly
    /// empty), or `None` when it is not disabled.
    pub fn disabled_reason(&self, address: std::net::IpAddr) -> anyhow::Result<Option<String>> {
        let r = self.db.begin_read()?;
        Ok(r.open_table(DISABLED)?.get(address.to_string().as_str())?.map(|v| v.value().to_string()))
    }

    /// Every recorded announcement. A record that no longer decodes is reported, not
    /// dropped silently.
    pub fn origins(&self) -> anyhow::Result<Vec<(Prefix, PathAttributes)>> {
        let r = self.db.begin_read()?;
        let table = r.open_table(ORIGINS)?;
        let mut out = Vec::new();
        for item in table.iter()? {
            let (k, v) = item?;
            let prefix: Prefix =
                k.value().parse().map_err(|e| anyhow::anyhow!("stored prefix {:?}: {e}", k.value()))?;
            let attrs = crate::wire::attrs::decode_stored(v.value())
                .map_err(|e| anyhow::anyhow!("stored attributes of {prefix} do not decode: {e}"))?;
            out.push((prefix, attrs));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{AsPath, Origin};

    #[test]
    fn announcements_survive_reopening() {
        let dir = std::env::temp_dir().join(format!("tern-store-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p: Prefix = "198.51.100.0/24".parse().unwrap();
        let q: Prefix = "2001:db8::/32".parse().unwrap();
        let a = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::empty()),
            med: Some(7),
            communities: vec![1],
            ..Default::default()
        };
        {
            let s = Store::open(&dir).unwrap();
            s.put_origin(p, &a).unwrap();
            s.put_origin(q, &PathAttributes::default()).unwrap();
            assert!(s.remove_origin(q).unwrap());
            assert!(!s.remove_origin(q).unwrap());
        }
        let s = Store::open(&dir).unwrap();
        assert_eq!(s.origins().unwrap(), vec![(p, a)]);
        let n: std::net::IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(s.disabled_reason(n).unwrap(), None);
        s.set_disabled(n, Some("maintenance")).unwrap();
        drop(s);
        let s = Store::open(&dir).unwrap();
        assert_eq!(s.disabled_reason(n).unwrap().as_deref(), Some("maintenance"));
        s.set_disabled(n, None).unwrap();
        assert_eq!(s.disabled_reason(n).unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
