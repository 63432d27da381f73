//! The realdesk corpus (tests/realdesk/*.test: 152 cases shaped like the
//! mail a Lima desk really receives) through the shipped rules. Every case
//! must pass except the ones whose answer is the desk's, not a rule's: a
//! follow-up with no words of its own belongs to the thread it answers
//! (src/desk/tests/realmail.rs proves the desk files those right).

mod support;

use support::*;

/// Cases decided by thread context in the desk, not by the rules.
const DESK_LEVEL: &[&str] = &[
    "client insists in its own reclamo thread: seguimos esperando respuesta",
    "y?? in a thread whose subject asks nothing",
];

#[test]
fn the_realdesk_corpus_passes_under_the_shipped_rules() {
    let i = Instance::new();
    // Only the realdesk cases: the shipped rule tests have their own test.
    for f in files(&i.path().join("rules/tests")) {
        let _ = std::fs::remove_file(f);
    }
    let mut cases = 0;
    for f in files(&root().join("tests/realdesk")) {
        if f.extension().is_some_and(|e| e == "test") {
            let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            cases += text.lines().filter(|l| l.starts_with("=== ")).count();
            let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            i.write(&format!("rules/tests/{name}"), &text);
        }
    }
    assert!(cases >= 150, "the realdesk corpus lost cases: {cases}");
    let out = i.run(&["rules", "test"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL ")).collect();
    let unexpected: Vec<&&str> =
        failed.iter().filter(|l| !DESK_LEVEL.iter().any(|name| l.ends_with(&format!(": {name}")))).collect();
    assert!(unexpected.is_empty(), "realdesk cases fail:\n{}", text);
    let summary = format!("{} passed, {} failed", cases - failed.len(), failed.len());
    assert!(text.contains(&summary), "expected `{summary}` in:\n{text}");
}
