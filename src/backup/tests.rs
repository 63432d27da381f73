use super::restore::{fresh_target, safe_member};
use super::*;

#[test]
fn member_paths_never_leave_the_target() {
    let table: &[(&str, Option<&str>)] = &[
        ("store.dump", Some("store.dump")),
        ("./config/rules/labels.toml", Some("config/rules/labels.toml")),
        ("attachments/ab/abcdef", Some("attachments/ab/abcdef")),
        ("../etc/passwd", None),
        ("config/../../x", None),
        ("/etc/passwd", None),
        ("", None),
        (".", None),
    ];
    for (path, want) in table {
        assert_eq!(safe_member(Path::new(path)).as_deref(), *want, "{path}");
    }
}

#[test]
fn a_restored_config_lives_in_its_folder() {
    let text = r#"
[mailbox]
kind = "maildir"
path = "/srv/mail/desk"
[outbox]
kind = "smtp"
host = "smtp.cli.test"
password_file = "secrets/smtp.pw"
ca_file = "/etc/ssl/ca.pem"
[store]
path = "/var/lib/buzon/store"
attachments_path = "/var/lib/buzon/attachments"
[rules]
path = "/etc/buzon/rules"
[clients]
path = "/etc/buzon/clientes.toml"
[desk]
address = "ops@cli.test"
"#;
    let out = restored_config(text, Path::new("/etc/buzon"), "clientes.toml").unwrap_or_else(|e| panic!("{e}"));
    let t: toml::Table = toml::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
    let get = |a: &str, b: &str| t[a][b].as_str().unwrap_or_default().to_string();
    let table = [
        ("mailbox", "path", "var/maildir"),
        ("store", "path", "var/store"),
        ("store", "attachments_path", "var/attachments"),
        ("rules", "path", "rules"),
        ("clients", "path", "clientes.toml"),
        ("outbox", "password_file", "/etc/buzon/secrets/smtp.pw"),
        ("outbox", "ca_file", "/etc/ssl/ca.pem"),
        ("outbox", "host", "smtp.cli.test"),
        ("desk", "address", "ops@cli.test"),
    ];
    for (a, b, want) in table {
        assert_eq!(get(a, b), want, "[{a}] {b}");
    }
}

#[test]
fn a_restore_never_lands_on_a_store() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    assert!(fresh_target(&dir.path().join("new")).is_ok());
    assert!(fresh_target(dir.path()).is_ok(), "an empty folder is fine");
    std::fs::create_dir_all(dir.path().join("var/store")).unwrap_or_else(|e| panic!("{e}"));
    let e = fresh_target(dir.path()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("already holds a store"), "{e}");
    let other = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(other.path().join("notes.txt"), "x").unwrap_or_else(|e| panic!("{e}"));
    let e = fresh_target(other.path()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("not empty"), "{e}");
}

#[test]
fn the_newest_backup_is_named() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let b = dir.path().join("backups");
    std::fs::create_dir_all(&b).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(b.join("buzon-2026-11-30.tar.gz"), "old").unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(b.join("pre-upgrade-0.1.0.tar.gz"), "new").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(b.join("notes.txt"), "not a backup").unwrap_or_else(|e| panic!("{e}"));
    let msg = newer_store_message(&dir.path().join("store"), 9, 3);
    assert!(msg.contains("layout version 9"), "{msg}");
    assert!(msg.contains("pre-upgrade-0.1.0.tar.gz"), "{msg}");
}
