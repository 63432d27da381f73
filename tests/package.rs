//! The Debian package's files, checked without building it (CI builds and
//! installs it: `.ci/run`): every asset in `[package.metadata.deb]` exists,
//! the config it installs as /etc/buzon/config.toml works with the rules,
//! templates and clients it installs beside it, and the systemd units say
//! what README.md "Run as a service" promises.

mod support;

use std::path::Path;

use support::*;

fn manifest() -> toml::Table {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap_or_else(|e| panic!("Cargo.toml: {e}"));
    text.parse().unwrap_or_else(|e| panic!("Cargo.toml: {e}"))
}

fn deb() -> toml::Table {
    manifest()["package"]["metadata"]["deb"].as_table().cloned().unwrap_or_else(|| panic!("no [package.metadata.deb]"))
}

/// (source, destination, mode) of each asset.
fn assets() -> Vec<(String, String, String)> {
    deb()["assets"]
        .as_array()
        .unwrap_or_else(|| panic!("no assets"))
        .iter()
        .map(|a| {
            let s = |i: usize| a[i].as_str().unwrap_or_else(|| panic!("asset {a}")).to_string();
            (s(0), s(1), s(2))
        })
        .collect()
}

fn unit(name: &str) -> String {
    std::fs::read_to_string(root().join("debian").join(name)).unwrap_or_else(|e| panic!("debian/{name}: {e}"))
}

/// The `key=value` lines of a unit (all of them: a key may repeat).
fn values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines().filter_map(|l| l.strip_prefix(key)?.strip_prefix('=')).collect()
}

#[test]
fn every_asset_of_the_package_exists_and_secrets_are_not_world_readable() {
    let assets = assets();
    assert!(assets.len() >= 8, "{assets:?}");
    for (src, dest, mode) in &assets {
        if src.starts_with("target/") {
            continue; // built by `cargo deb`
        }
        let base = src.split('*').next().unwrap_or(src);
        assert!(root().join(base).exists(), "asset {src} is missing");
        if src.contains('*') {
            let dir = root().join(Path::new(base));
            assert!(!files(&dir).is_empty(), "asset {src} matches nothing");
        }
        if dest.starts_with("etc/buzon") {
            assert_eq!(mode, "640", "{dest}: /etc/buzon may hold passwords: root:buzon 0640");
        }
    }
    let dests: Vec<&str> = assets.iter().map(|(_, d, _)| d.as_str()).collect();
    for want in ["usr/bin/", "etc/buzon/config.toml", "etc/buzon/clients.toml", "etc/buzon/rules/"] {
        assert!(dests.contains(&want), "no asset installs {want}: {dests:?}");
    }
    let units: Vec<String> = deb()["systemd-units"]
        .as_array()
        .unwrap_or_else(|| panic!("no systemd-units"))
        .iter()
        .filter_map(|u| u.get("unit-name")?.as_str().map(str::to_string))
        .collect();
    assert_eq!(units, ["buzon", "buzon-backup"]);
    for f in ["buzon.service", "buzon-backup.service", "buzon-backup.timer", "postinst", "preinst", "postrm"] {
        assert!(root().join("debian").join(f).is_file(), "debian/{f}");
    }
    let postinst = unit("postinst");
    assert!(postinst.contains("#DEBHELPER#"), "cargo-deb's systemd snippets go where #DEBHELPER# is");
    assert!(postinst.contains("adduser --system"), "the buzon system user");
    assert!(postinst.contains("-m 0750 /var/lib/buzon"), "the store is not world-readable");
}

#[test]
fn the_service_is_notify_reloads_on_sighup_restarts_on_failure_and_is_hardened() {
    let u = unit("buzon.service");
    let one = |k: &str| values(&u, k).first().copied().unwrap_or_else(|| panic!("buzon.service has no {k}="));
    assert_eq!(one("Type"), "notify");
    assert!(one("WatchdogSec").parse::<u32>().is_ok_and(|s| s >= 10), "WatchdogSec");
    assert_eq!(one("ExecReload"), "/bin/kill -HUP $MAINPID");
    assert_eq!(one("Restart"), "on-failure");
    assert_eq!(one("User"), "buzon");
    assert_eq!(one("ExecStart"), "/usr/bin/buzon --config /etc/buzon/config.toml run");
    assert_eq!(one("ProtectSystem"), "strict");
    assert!(one("ReadWritePaths").split_whitespace().any(|p| p == "/var/lib/buzon"));
    assert_eq!(one("NoNewPrivileges"), "true");
    assert_eq!(one("CapabilityBoundingSet"), "");
    // The stop timeout leaves room for the daemon's own 10 s drain.
    let stop: u32 = one("TimeoutStopSec").trim_end_matches('s').parse().unwrap_or(0);
    assert!(stop > 10, "TimeoutStopSec={stop}");
    let b = unit("buzon-backup.service");
    assert_eq!(values(&b, "ExecStart"), ["/usr/lib/buzon/nightly-backup"]);
    assert_eq!(values(&b, "User"), ["buzon"]);
    let t = unit("buzon-backup.timer");
    assert_eq!(values(&t, "Persistent"), ["true"]);
    assert!(!values(&t, "OnCalendar").is_empty());
    // Every file the units run is one the package installs.
    let dests: Vec<String> = assets()
        .into_iter()
        .map(|(s, d, _)| format!("/{d}{}", if d.ends_with('/') { file_name(&s) } else { String::new() }))
        .collect();
    for exe in ["/usr/bin/buzon", "/usr/lib/buzon/nightly-backup"] {
        assert!(dests.iter().any(|d| d == exe), "{exe} not installed: {dests:?}");
    }
}

fn file_name(p: &str) -> String {
    Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[test]
fn the_installed_config_works_with_the_installed_rules_and_clients() {
    // /etc/buzon and /var/lib/buzon, moved into a temp folder.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let etc = dir.path().join("etc/buzon");
    let var = dir.path().join("var/lib/buzon");
    copy_dir(&root().join("rules"), &etc.join("rules"));
    std::fs::copy(root().join("debian/clients.toml"), etc.join("clients.toml")).unwrap_or_else(|e| panic!("{e}"));
    let config = std::fs::read_to_string(root().join("debian/config.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.contains("\"/etc/buzon/rules\"") && config.contains("\"/var/lib/buzon/store\""), "{config}");
    let config = config
        .replace("\"/etc/buzon", &format!("\"{}", etc.display()))
        .replace("\"/var/lib/buzon", &format!("\"{}", var.display()));
    std::fs::write(etc.join("config.toml"), config).unwrap_or_else(|e| panic!("{e}"));
    let cfg = etc.join("config.toml").display().to_string();
    let check = buzon(dir.path(), &["--config", &cfg, "rules", "check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(stdout(&check).starts_with("ok: "), "{}", stdout(&check));
    // The rule tests it installs pass under it, and its metrics port is
    // loopback only.
    let run = buzon(dir.path(), &["--config", &cfg, "--now", "2026-12-01T10:00:00-05:00", "rules", "test"]);
    assert!(run.status.success(), "{}{}", stdout(&run), stderr(&run));
    let raw: toml::Table = std::fs::read_to_string(root().join("debian/config.toml"))
        .unwrap_or_default()
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let listen = raw["http"]["listen"].as_str().unwrap_or_default();
    assert!(listen.starts_with("127.0.0.1:"), "metrics on loopback only: {listen}");
}
