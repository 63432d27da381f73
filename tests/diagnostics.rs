//! Bad rule and config files stop with every problem as file:line:col.

mod support;

use support::*;

#[test]
fn every_rule_error_is_reported_at_once_with_its_position() {
    let inst = Instance::new();
    inst.write(
        "rules/95-bad.toml",
        r#"[[rule]]
id = "malo.regex"
labels = ["reclamo"]
when = { subject = ["ok", "(sin cerrar"] }

[[rule]]
id = "malo.etiqueta"
labels = ["reclamos"]
when = { subject = "x" }

[[rule]]
id = "malo.clave"
labels = ["reclamo"]
when = { subjet = "x" }

[[document]]
id = "malo.tipo"
kind = "factura"
when = { attachment_name = "x" }

[[rule]]
id = "malo.regex"
labels = ["reclamo"]
when = { sender = "cliente" }
"#,
    );
    let out = inst.run(&["rules", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    // Sorted by position, all at once.
    assert_eq!(err.lines().count(), 6, "{err}");
    let expect = [
        "rules/95-bad.toml:4:27: bad regular expression `(sin cerrar`: error: unclosed group",
        "rules/95-bad.toml:8:11: unknown label `reclamos` (did you mean `reclamo`?)",
        "rules/95-bad.toml:14:10: unknown field `subjet`",
        "rules/95-bad.toml:18:8: unknown document kind `factura` (did you mean `factura_comercial`?)",
        "rules/95-bad.toml:22:6: duplicate rule id `malo.regex` (first used at rules/95-bad.toml:2)",
        "rules/95-bad.toml:24:19: unknown sender role `cliente`; use one of: ours, staff, client, partner, counterpart, unknown",
    ];
    for e in expect {
        assert!(err.contains(e), "missing `{e}` in:\n{err}");
    }
}

#[test]
fn unknown_top_level_keys_get_a_suggestion() {
    let inst = Instance::new();
    inst.write("rules/96-typo.toml", "[[rules]]\nid = \"x\"\n");
    let out = inst.run(&["rules", "check"]);
    let err = stderr(&out);
    assert!(err.contains("rules/96-typo.toml:1:3: unknown key `rules` (did you mean `rule`?)"), "{err}");
}

#[test]
fn a_bad_config_value_stops_with_its_line() {
    let inst = Instance::new();
    let cfg = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    inst.write(
        "config.toml",
        &cfg.replace("timezone = \"America/Lima\"", "timezone = \"America/Lma\"")
            .replace("kind = \"files\"", "kind = \"file\""),
    );
    let out = inst.run(&["rules", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let kind_line = cfg.lines().position(|l| l.starts_with("kind = \"files\"")).map(|i| i + 1).unwrap_or(0);
    assert!(
        err.contains(&format!("config.toml:{kind_line}:8: unknown outbox kind `file`; use \"files\" or \"smtp\"")),
        "{err}"
    );
    assert!(err.contains("unknown time zone `America/Lma`"), "{err}");
    let line = cfg.lines().position(|l| l.starts_with("timezone")).map(|i| i + 1).unwrap_or(0);
    assert!(err.contains(&format!("config.toml:{line}:")), "{err}");
}

#[test]
fn an_unknown_config_key_is_refused_with_its_position() {
    let inst = Instance::new();
    let cfg = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    inst.write("config.toml", &cfg.replace("[rules]\n", "[rules]\npaht = \"x\"\n"));
    let err = stderr(&inst.run(&["rules", "check"]));
    assert!(err.contains("config.toml:") && err.contains("unknown field `paht`"), "{err}");
}

#[test]
fn a_public_webmail_domain_is_refused_for_a_client() {
    let inst = Instance::new();
    let c = std::fs::read_to_string(inst.path().join("clients.toml")).unwrap_or_default();
    inst.write("clients.toml", &c.replace("domains = [\"pacificfoods.test\"]", "domains = [\"gmail.com\"]"));
    let err = stderr(&inst.run(&["rules", "check"]));
    assert!(err.contains("clients.toml:") && err.contains("`gmail.com` is a public webmail domain"), "{err}");
}

#[test]
fn a_counterpart_address_in_the_staff_domain_is_refused() {
    let inst = Instance::new();
    let c = std::fs::read_to_string(inst.path().join("clients.toml")).unwrap_or_default();
    assert!(c.contains("addresses = [\"operaciones@dtcallao1.test\"]"), "the shipped clients file changed");
    inst.write(
        "clients.toml",
        &c.replace("addresses = [\"operaciones@dtcallao1.test\"]", "addresses = [\"cvega@cli.test\"]"),
    );
    let out = inst.run(&["run", "--once"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("clients.toml") && err.contains("`cvega@cli.test` is in the staff domain cli.test"), "{err}");
}

#[test]
fn a_template_that_does_not_render_is_found_by_rules_check() {
    let inst = Instance::new();
    inst.write("rules/templates/estado.txt.j2", "Hola {{ sender.nombre_que_no_existe }}\n");
    let out = inst.run(&["rules", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("rules/templates/estado.*.j2: renders with an error"), "{err}");
    inst.write("rules/templates/estado.txt.j2", "Hola {% if %}\n");
    let err = stderr(&inst.run(&["rules", "check"]));
    assert!(err.contains("rules/templates/estado.txt.j2:1:1:"), "{err}");
}
