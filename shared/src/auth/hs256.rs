//! The cryptography `jsonwebtoken` signs and verifies with: HS256 and nothing else, on the
//! `hmac` and `sha2` crates every binary links already.
//!
//! `jsonwebtoken`'s own `rust_crypto` backend brings every algorithm it knows (RSA, P-256,
//! P-384, Ed25519) into each bootstrap, though a token here is only ever HS256; a
//! [`CryptoProvider`] of our own is the crate's documented way to choose. Any other algorithm
//! is refused before a key is touched, as `Validation` already refuses it.

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::Sha256;

/// HS256 keyed with one secret.
struct Hs256(Hmac<Sha256>);

impl Hs256 {
    fn new(algorithm: Algorithm, secret: &[u8]) -> Result<Self, Error> {
        if algorithm != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        let mac = Hmac::new_from_slice(secret).map_err(|_| ErrorKind::InvalidKeyFormat)?;
        Ok(Self(mac))
    }
}

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mac = self.0.clone().chain_update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    /// In constant time (`Mac::verify_slice`).
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let mac = self.0.clone().chain_update(message);
        mac.verify_slice(signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Ok(Box::new(Hs256::new(*algorithm, key.as_bytes())?))
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    Ok(Box::new(Hs256::new(*algorithm, key.try_get_as_bytes()?)?))
}

static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    // No JWKs here: tokens are verified with our own secrets only.
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes HS256 `jsonwebtoken`'s cryptography for this process. Idempotent; called before any
/// token is signed or verified ([`super::Tokens::new`]).
pub(super) fn install() {
    // Fails only when already installed, and nothing else installs one.
    let _ = HS256_ONLY.install_default();
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{decode, encode, Header, Validation};
    use serde_json::{json, Value};

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    /// RFC 7515 appendix A.1's HS256 example, recomputed: the provider is HMAC-SHA-256.
    #[test]
    fn signs_as_rfc_7515_says() {
        install();
        let key = [
            3, 35, 53, 75, 43, 15, 165, 188, 131, 126, 6, 101, 119, 123, 166, 143, 90, 179, 40,
            230, 240, 84, 201, 40, 169, 15, 132, 178, 210, 80, 46, 191, 211, 251, 90, 146, 210, 6,
            71, 239, 150, 138, 180, 195, 119, 98, 61, 34, 61, 46, 33, 114, 5, 46, 79, 8, 192, 205,
            154, 245, 103, 208, 128, 163,
        ];
        let message = b"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let signed =
            jsonwebtoken::crypto::sign(message, &EncodingKey::from_secret(&key), Algorithm::HS256)
                .unwrap();
        assert_eq!(signed, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    }

    #[test]
    fn round_trips_and_refuses_a_changed_token_or_another_algorithm() {
        install();
        let claims = json!({"sub": "u", "exp": 4_000_000_000u64});
        let token = encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        let key = DecodingKey::from_secret(SECRET);
        assert_eq!(
            decode::<Value>(&token, &key, &validation).unwrap().claims,
            claims
        );

        let other = DecodingKey::from_secret(b"another secret of thirty-two bytes!");
        assert!(decode::<Value>(&token, &other, &validation).is_err());

        let header = Header::new(Algorithm::HS512);
        let refused = encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap_err();
        assert_eq!(refused.kind(), &ErrorKind::InvalidAlgorithm);
    }
}
