//! TLS for tests: a certificate authority made for the test process (rcgen),
//! certificates it signs for `localhost`, and an upstream that serves the
//! echo app over TLS, optionally demanding a client certificate.

#![expect(
    clippy::unwrap_used,
    reason = "test support stops at the first surprise, like the tests it serves"
)]

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::{Arc, OnceLock};

/// A certificate and its key.
pub struct Pair {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Pair {
    fn clone(&self) -> Self {
        Pair {
            cert: self.cert.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// The test process's CA: its certificate, and what it signs.
pub struct Authority {
    pub cert: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        Authority {
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `localhost` and 127.0.0.1, for a server (or, with
    /// `client`, for a client).
    pub fn issue(&self, client: bool) -> Pair {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Pair {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

impl Pair {
    /// Writes the certificate and key as PEM files in `dir`, as an operator
    /// would hand them to Steward; returns their paths.
    pub fn write_pem(&self, dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
        use base64::Engine;
        let pem = |label: &str, der: &[u8]| {
            let body = base64::engine::general_purpose::STANDARD.encode(der);
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            format!(
                "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
                lines.join("\n")
            )
        };
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, pem("CERTIFICATE", &self.cert)).unwrap();
        std::fs::write(&key, pem("PRIVATE KEY", self.key.secret_der())).unwrap();
        (cert, key)
    }
}

/// The CA the harness's gateway trusts, made once per test process.
pub fn authority() -> &'static Authority {
    static CA: OnceLock<Authority> = OnceLock::new();
    CA.get_or_init(|| Authority::new("Steward test CA"))
}

/// A CA that nobody trusts, for certificates that must be refused.
pub fn stranger() -> &'static Authority {
    static CA: OnceLock<Authority> = OnceLock::new();
    CA.get_or_init(|| Authority::new("Unknown CA"))
}

/// The client certificate the harness's gateway presents to upstreams.
pub fn gateway_identity() -> &'static Pair {
    static ID: OnceLock<Pair> = OnceLock::new();
    ID.get_or_init(|| authority().issue(true))
}

/// Serves `app` over TLS with `server`'s certificate on a random port; with
/// `require_client`, only clients with a certificate from the test CA get in.
/// Returns the `https://localhost:<port>` base URL.
pub async fn serve(app: axum::Router, server: Pair, require_client: bool) -> String {
    let builder =
        rustls::ServerConfig::builder_with_provider(steward_gateway::wire::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap();
    let builder = if require_client {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(authority().cert.clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            steward_gateway::wire::tls::provider(),
        )
        .build()
        .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(vec![server.cert], server.key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                // A refused handshake is the point of some tests: nothing to serve.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    format!("https://localhost:{port}")
}
