//! The rule author's tools, through the binary: `classify --explain`,
//! `classify --desk` (a dry run on a copy of the store) and `rules replay`.

mod support;

use support::{Instance, root, stderr, stdout};

const NOW: &str = "2026-12-01T10:00:00-05:00";

/// The shipped example mail, delivered into the instance's Maildir.
fn with_examples(inst: &Instance) -> Vec<String> {
    let mut names = Vec::new();
    for p in support::files(&root().join("examples/maildir/new")) {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        inst.deliver(&name, &bytes);
        names.push(name);
    }
    assert!(names.len() >= 10, "examples/maildir/new holds the sample desk mail");
    names
}

#[test]
fn explain_names_the_rule_and_the_words() {
    let inst = Instance::new();
    with_examples(&inst);
    let new = inst.path().join("var/maildir/new");
    let dir = new.to_string_lossy().into_owned();
    // The same labels as plain classification, for every example.
    let plain = inst.json(&["classify", "--json", &dir]);
    let explained = inst.json(&["classify", "--explain", "--json", &dir]);
    assert_eq!(plain.len(), explained.len());
    for (p, x) in plain.iter().zip(&explained) {
        assert_eq!(p["file"], x["file"]);
        assert_eq!(p["labels"], x["labels"], "{}", p["file"]);
        let fired: Vec<&str> = x["fired"].as_array().into_iter().flatten().filter_map(|f| f["rule"].as_str()).collect();
        let rules: Vec<&str> = p["rules"].as_array().into_iter().flatten().filter_map(|r| r.as_str()).collect();
        for f in &fired {
            assert!(rules.contains(f), "{f} fired in --explain only ({})", p["file"]);
        }
    }
    // The multa complaint: which rule, which field, which words.
    let reclamo = explained
        .iter()
        .find(|x| x["file"].as_str().is_some_and(|f| f.contains("06-reclamo-multa")))
        .unwrap_or_else(|| panic!("06-reclamo-multa explained"));
    let giver = reclamo["fired"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["labels"].as_array().is_some_and(|l| l.iter().any(|l| l == "reclamo")))
        .unwrap_or_else(|| panic!("a rule gave reclamo: {reclamo}"));
    let ev = giver["evidence"].as_array().cloned().unwrap_or_default();
    assert!(ev.iter().any(|e| e["field"] == "new_text" || e["field"] == "sent" || e["field"] == "subject"), "{giver}");
    assert!(ev.iter().all(|e| e["matched"].as_str().is_some_and(|m| !m.is_empty())), "{giver}");
    // Text form: the documents' kinds by attachment name.
    let out = inst.run(&["classify", "--explain", &format!("{dir}/01-docs-invoice-packing.eml")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("document Factura AT-5521.pdf = factura_comercial by rule"), "{text}");
    assert!(text.contains("attachment_name of Factura AT-5521.pdf matched \"factura\""), "{text}");
    assert!(text.contains("rule documentos."), "{text}");
}

#[test]
fn explain_says_when_the_fallback_decided() {
    let inst = Instance::new();
    inst.write(
        "hola.eml",
        "From: Rosa <rosa@desconocido.test>\r\nTo: ops@cli.test\r\nSubject: hola\r\nMessage-ID: <h1@desconocido.test>\r\n\r\nbuenas tardes\r\n",
    );
    let out = inst.run(&["classify", "--explain", "hola.eml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("no label left: otro (the fallback)"), "{text}");
}

/// The dry run says what would happen and changes nothing: no store, no
/// outbox, no kept documents — and it works while another process holds
/// the store (the daemon).
#[test]
fn desk_dry_run_changes_nothing() {
    let inst = Instance::new();
    with_examples(&inst);
    let dir = inst.path().join("var/maildir/new").to_string_lossy().into_owned();
    let first = inst.run(&["--now", NOW, "classify", "--desk", &dir]);
    assert!(first.status.success(), "{}", stderr(&first));
    let text = stdout(&first);
    assert!(text.contains("opens order OC-2026-000001: client andestextil"), "{text}");
    // The follow-up in the same batch joins the order the first one opened.
    assert!(text.contains("02-docs-hbl-followup.eml: documentos\n  updates order OC-2026-000001"), "{text}");
    assert!(text.contains("sends acuse_documentos to phuaman@andestextil.test"), "{text}");
    assert!(text.contains("opens reclamo R-000001"), "{text}");
    assert!(text.contains("sends reclamo_escalamiento to supervision@cli.test"), "{text}");
    assert!(!inst.path().join("var/outbox").exists() || support::files(&inst.path().join("var/outbox")).is_empty());
    assert!(!inst.path().join("var/attachments").exists(), "documents are not kept by a dry run");
    assert_eq!(support::files(&inst.path().join("var/maildir/cur")).len(), 0, "nothing moved to cur/");
    // Again: the same answer (the first run left nothing behind).
    let again = inst.run(&["--now", NOW, "classify", "--desk", &dir]);
    assert_eq!(stdout(&again), text);

    // Now process for real, then dry-run again while the store is held.
    let run = inst.run(&["--now", NOW, "run", "--once"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let orders_before = inst.json(&["orders", "list", "--json"]).len();
    let held = buzon::store::Store::open(&inst.path().join("var/store")).unwrap_or_else(|e| panic!("open: {e}"));
    let cur = inst.path().join("var/maildir/cur").to_string_lossy().into_owned();
    let later = inst.run(&["--now", NOW, "classify", "--desk", "--json", &cur]);
    assert!(later.status.success(), "{}", stderr(&later));
    for line in stdout(&later).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["skipped"], "processed already: nothing would happen", "{v}");
    }
    inst.write(
        "nuevo.eml",
        "From: Patricia Huaman <phuaman@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Reclamo: cobro indebido\r\n\
         Message-ID: <nuevo-1@andestextil.test>\r\nDate: Tue, 01 Dec 2026 09:40:00 -0500\r\n\r\n\
         Es inaceptable, nos cobraron almacenaje por su demora en la OC-2026-000001.\r\n",
    );
    let one = inst.run(&["--now", NOW, "classify", "--desk", "--json", "nuevo.eml"]);
    assert!(one.status.success(), "{}", stderr(&one));
    let v: serde_json::Value = serde_json::from_str(stdout(&one).trim()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["labels"], serde_json::json!(["reclamo"]), "{v}");
    assert_eq!(v["reclamos"][0]["action"], "opens", "{v}");
    assert!(v["mails"].as_array().is_some_and(|m| m.iter().any(|m| m["template"] == "reclamo_acuse")), "{v}");
    drop(held);
    assert_eq!(inst.json(&["orders", "list", "--json"]).len(), orders_before);
    assert!(inst.json(&["reclamos", "list", "--json"]).iter().all(|r| r["subject"] != "Reclamo: cobro indebido"));
}

#[test]
fn replay_lists_what_a_rule_change_would_change() {
    let inst = Instance::new();
    let names = with_examples(&inst);
    let run = inst.run(&["--now", NOW, "run", "--once"]);
    assert!(run.status.success(), "{}", stderr(&run));
    // The rules as they are: nothing changes.
    let same = inst.run(&["rules", "replay"]);
    assert!(same.status.success(), "{}", stderr(&same));
    let text = stdout(&same);
    assert!(
        text.ends_with(&format!(
            "{} mails: 0 would change, {} unchanged, 0 never processed here\n",
            names.len(),
            names.len()
        )),
        "{text}"
    );
    // Drop the reclamo rules: the two complaints would become `otro`.
    std::fs::remove_file(inst.path().join("rules/20-reclamo.toml")).unwrap_or_else(|e| panic!("{e}"));
    let out = inst.run(&["rules", "replay"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let changed: Vec<&str> = text.lines().filter(|l| l.contains(" → ")).collect();
    assert_eq!(changed.len(), 2, "{text}");
    assert!(changed.iter().all(|l| l.contains("reclamo → otro")), "{text}");
    assert!(changed.iter().any(|l| l.contains("06-reclamo-multa")), "{text}");
    let lines = inst.json(&["rules", "replay", "--json"]);
    let summary = &lines[lines.len() - 1]["summary"];
    assert_eq!(summary["changed"], 2, "{summary}");
    assert_eq!(summary["unchanged"], names.len() - 2, "{summary}");
    for l in &lines[..lines.len() - 1] {
        assert_eq!(l["before"], serde_json::json!(["reclamo"]));
        assert_eq!(l["after"], serde_json::json!(["otro"]));
    }
    // --since: mail processed before that day is left out.
    let later = inst.run(&["rules", "replay", "--since", "2026-12-02"]);
    assert!(
        stdout(&later).contains("0 would change, 0 unchanged, 0 never processed here, 15 before --since"),
        "{}",
        stdout(&later)
    );
    // Files from elsewhere (an exported IMAP folder): never processed here.
    inst.write("otra/x.eml", "From: a@b.test\r\nSubject: x\r\nMessage-ID: <zz@b.test>\r\n\r\nhola\r\n");
    let from = inst.run(&["rules", "replay", "--from", "otra", "--all"]);
    assert!(stdout(&from).contains("otra/x.eml: never processed here; today otro"), "{}", stdout(&from));
    // A broken rule file is an error with its place, not a replay.
    inst.write("rules/20-reclamo.toml", "[[rule]]\nid = \"x\"\nlabels = [\"reclamo\"]\nwhen = { subject = ['(' ] }\n");
    let bad = inst.run(&["rules", "replay"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stdout(&bad));
    assert!(stderr(&bad).contains("20-reclamo.toml:4"), "{}", stderr(&bad));
}
