//! Which language a mail is written in, from its own words: partners and
//! suppliers abroad write English and get the English templates
//! (`rules/templates/en/`); everyone else Spanish, the default.

use crate::mail::Mail;

/// Languages with templates of their own besides Spanish.
pub const LANGUAGES: &[&str] = &["es", "en"];

/// Words that say "English" (function words and the trade's stock phrases).
const EN: &[&str] = &[
    "the", "and", "of", "to", "please", "find", "attached", "attach", "we", "our", "your", "is", "are", "regards",
    "dear", "kindly", "shipment", "for", "with", "will", "this", "that", "be", "have", "has", "you", "hi", "hello",
    "thanks", "thank", "best", "would", "could", "what", "when", "status", "cargo", "arrival", "update",
];

/// Words that say "Spanish".
const ES: &[&str] = &[
    "el",
    "la",
    "los",
    "las",
    "de",
    "del",
    "que",
    "y",
    "en",
    "por",
    "para",
    "con",
    "una",
    "un",
    "es",
    "adjunto",
    "adjunta",
    "estimados",
    "estimado",
    "estimada",
    "saludos",
    "favor",
    "nuestra",
    "nuestro",
    "su",
    "sus",
    "le",
    "les",
    "se",
    "lo",
    "al",
    "gracias",
    "buenos",
    "buenas",
    "dias",
    "días",
    "tardes",
    "hola",
    "embarque",
    "carga",
    "cuál",
    "cual",
    "cuando",
    "cuándo",
    "atentamente",
];

/// `es` or `en` for a text: English only when its English words clearly
/// outnumber its Spanish ones (a Spanish mail naming an "invoice" stays Spanish).
pub fn detect(text: &str) -> &'static str {
    let (mut en, mut es) = (0usize, 0usize);
    for w in text.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).take(400) {
        let w = w.to_lowercase();
        if EN.contains(&w.as_str()) {
            en += 1;
        }
        if ES.contains(&w.as_str()) {
            es += 1;
        }
    }
    if en >= 3 && en > 2 * es { "en" } else { "es" }
}

/// The language of what the sender wrote (subject and new text).
pub fn of_mail(mail: &Mail) -> &'static str {
    detect(&format!("{}\n{}", mail.subject, mail.new_text))
}

/// A language code the desk has templates for (`es` otherwise).
pub fn known(code: &str) -> &'static str {
    LANGUAGES.iter().find(|l| l.eq_ignore_ascii_case(code)).copied().unwrap_or("es")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_writers_are_told_from_spanish_ones() {
        let cases = [
            ("Dear team, please find attached the commercial invoice and packing list for the shipment.", "en"),
            ("Hi, what is the status of our cargo? Container MSKU1234565. Thanks", "en"),
            ("Buenos días, adjunto la factura comercial (invoice) del embarque.", "es"),
            ("Estimados, ¿cuál es el status de la carga? Gracias", "es"),
            ("Invoice attached", "es"),
            ("", "es"),
            ("Kindly confirm the ETA of the vessel. Best regards, John", "en"),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text), want, "{text}");
        }
        assert_eq!(known("EN"), "en");
        assert_eq!(known("pt"), "es");
    }
}
