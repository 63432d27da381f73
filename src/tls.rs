//! TLS for the IMAP source and the SMTP sink: the mode a server speaks and
//! the one connector builder (rustls with the ring provider; a private CA
//! from a PEM file, or the public web roots).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Plain text (a server on loopback).
    None,
    /// Plain, then STARTTLS before authenticating.
    StartTls,
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Implicit,
}

impl Tls {
    /// `none` | `starttls` | `implicit`.
    pub fn parse(s: &str) -> Option<Tls> {
        match s {
            "none" => Some(Tls::None),
            "starttls" => Some(Tls::StartTls),
            "implicit" => Some(Tls::Implicit),
            _ => None,
        }
    }
}

/// A TLS connector trusting `ca_file` (PEM), or the public web roots.
pub fn connector(ca_file: Option<&Path>) -> anyhow::Result<tokio_rustls::TlsConnector> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in rustls_pki_types::CertificateDer::pem_file_iter(path)
                .with_context(|| format!("cannot read the CA file {}", path.display()))?
            {
                let cert = cert.with_context(|| format!("bad certificate in {}", path.display()))?;
                roots.add(cert).with_context(|| format!("unusable certificate in {}", path.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS set-up")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
