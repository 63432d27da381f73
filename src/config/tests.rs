use super::*;

/// The repository's config with `extra` added to `[desk]`, loaded.
fn load_with_desk(extra: &str) -> (Result<Config, Diagnostics>, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"))
        .unwrap_or_else(|e| panic!("config.toml: {e}"));
    let text = base.replacen("[desk]\n", &format!("[desk]\n{extra}\n"), 1);
    let file = dir.path().join("config.toml");
    std::fs::write(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    let loaded = Config::load(&file);
    (loaded, file.display().to_string())
}

#[test]
fn auth_results_takes_its_two_words_and_names_the_place_of_a_wrong_one() {
    let table = [
        ("", Some(crate::mail::AuthResults::AuthservId)),
        ("auth_results = \"authserv-id\"", Some(crate::mail::AuthResults::AuthservId)),
        ("auth_results = \"topmost\"", Some(crate::mail::AuthResults::Topmost)),
        ("auth_results = \"exchange\"", None),
    ];
    for (line, want) in table {
        let (loaded, file) = load_with_desk(line);
        match (loaded, want) {
            (Ok(c), Some(w)) => assert_eq!(c.auth_results, w, "{line}"),
            (Err(d), None) => {
                let text = d.to_string();
                // Line 24 of the sample is `[desk]`: the key is the line below.
                let at = format!("{file}:25:16: unknown auth_results `exchange`; use \"authserv-id\"");
                assert!(text.contains(&at), "{text}");
                assert!(text.contains("\"topmost\" (Exchange Online"), "{text}");
            }
            (Ok(_), None) => panic!("`{line}` was taken"),
            (Err(d), Some(_)) => panic!("`{line}`: {d}"),
        }
    }
    let (loaded, _) = load_with_desk("auth_results = 1");
    assert!(loaded.is_err_and(|d| d.to_string().contains("invalid type")), "a number is refused");
}

#[test]
fn request_deadlines_and_the_automatic_checks_are_read_with_their_defaults() {
    let (loaded, _) = load_with_desk("");
    let c = loaded.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.desk.requests, crate::desk::RequestSettings::default(), "the shipped config says the defaults");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap_or_default();
    assert!(text.contains("arrival_check_hours = 12"), "the shipped config documents the key");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("config.toml");
    let custom = text.replace("bl = 16\n", "bl = 24\n").replace("volante_days = 2", "volante_days = 3");
    std::fs::write(&file, custom).unwrap_or_else(|e| panic!("{e}"));
    let c = Config::load(&file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((c.desk.requests.bl_hours, c.desk.requests.volante_days, c.desk.requests.previo_hours), (24, 3, 8));
    let bad = text.replace("previo = 8\n", "previo = 8\nprevios = 4\n");
    std::fs::write(&file, bad).unwrap_or_else(|e| panic!("{e}"));
    let shown = Config::load(&file).err().map(|d| d.to_string()).unwrap_or_default();
    assert!(shown.contains("previos"), "an unknown request kind is refused: {shown}");
}
