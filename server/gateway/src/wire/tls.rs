//! TLS on both of the gateway's legs (data plane). Upstream: rustls with the
//! Mozilla root store (webpki-roots) plus any CA bundle the operator adds, SNI
//! and hostname verification on every connection, and an optional client
//! certificate for upstreams that demand mutual TLS. Listening: a certificate
//! chain and key from files, for the gateway and the console. Only the ring
//! provider is compiled in.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use std::path::Path;
use std::sync::Arc;

/// A certificate chain and its key, for mutual TLS.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// The configuration every upstream connection over TLS uses: the Mozilla roots
/// and `extra_roots` are trusted; with `identity`, it is presented to upstreams
/// that ask for a client certificate.
pub fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
    identity: Option<Identity>,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for cert in extra_roots {
        roots.add(cert)?;
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let mut config = match identity {
        Some(id) => builder.with_client_auth_cert(id.chain, id.key)?,
        None => builder.with_no_client_auth(),
    };
    // The gateway speaks HTTP/1.1 upstream; saying so keeps an upstream that
    // negotiates ALPN from choosing h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The cryptography every TLS connection uses: *ring*. rustls now prefers
/// aws-lc-rs for its post-quantum key exchange, but that adds a C library's
/// build to every build of Steward; the upstream leg runs inside the
/// operator's network, where classical key exchange is what its peers speak.
#[allow(deprecated)]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The configuration a TLS listener serves with: the certificate chain and
/// the key in `cert` and `key` (PEM), HTTP/1.1 by ALPN.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = read_certificates(cert)?;
    let key = read_key(key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Every certificate in a PEM file.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS #8, PKCS #1 or SEC1).
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("{}: {e}", path.display()))
}
