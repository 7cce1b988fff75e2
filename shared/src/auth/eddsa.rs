//! The cryptography `jsonwebtoken` signs and verifies with: EdDSA over Ed25519 (RFC 8037) and
//! nothing else, on `ring`, which every bootstrap links already for TLS.
//!
//! `jsonwebtoken`'s own backends bring every algorithm they know (RSA, P-256, P-384, and a
//! second Ed25519) into each bootstrap; a [`CryptoProvider`] of our own is the crate's
//! documented way to choose. Any other algorithm is refused before a key is touched, as
//! `Validation` already refuses it.
//!
//! An [`EncodingKey`] holds the private key as PKCS #8 (RFC 8410), as
//! `EncodingKey::from_ed_der` documents; a [`DecodingKey`] holds the 32 bytes of the public
//! key, as `DecodingKey::from_ed_der` and `from_ed_components` make it.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

/// The length of an Ed25519 seed (the private key) and of a public key.
pub const KEY_BYTES: usize = 32;

/// RFC 8410 §7's PKCS #8 v1 prefix of an Ed25519 private key: the seed follows.
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The PKCS #8 document of the private key whose seed is `seed`.
pub fn pkcs8(seed: &[u8; KEY_BYTES]) -> Vec<u8> {
    [&PKCS8_PREFIX[..], seed].concat()
}

/// The public key of the private key whose seed is `seed`.
pub fn public_key(seed: &[u8; KEY_BYTES]) -> [u8; KEY_BYTES] {
    let pair = Ed25519KeyPair::from_seed_unchecked(seed).expect("any 32 bytes are a seed");
    let mut public = [0; KEY_BYTES];
    public.copy_from_slice(pair.public_key().as_ref());
    public
}

fn only_eddsa(algorithm: Algorithm) -> Result<(), Error> {
    if algorithm == Algorithm::EdDSA {
        Ok(())
    } else {
        Err(ErrorKind::InvalidAlgorithm.into())
    }
}

struct Signer(Ed25519KeyPair);

impl signature::Signer<Vec<u8>> for Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.0.sign(message).as_ref().to_vec())
    }
}

impl JwtSigner for Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

struct Verifier(Vec<u8>);

impl signature::Verifier<Vec<u8>> for Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    only_eddsa(*algorithm)?;
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(key.as_bytes())
        .map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(Box::new(Signer(pair)))
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    only_eddsa(*algorithm)?;
    let public = key.try_get_as_bytes()?;
    if public.len() != KEY_BYTES {
        return Err(ErrorKind::InvalidEddsaKey.into());
    }
    Ok(Box::new(Verifier(public.to_vec())))
}

static EDDSA_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    // No JWKs here: public keys come from the table, by `kid` (see `super::tokens`).
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes EdDSA `jsonwebtoken`'s cryptography for this process. Idempotent; called before any
/// token is signed or verified ([`super::Tokens::new`]).
pub(super) fn install() {
    // Fails only when already installed, and nothing else installs one.
    let _ = EDDSA_ONLY.install_default();
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{decode, encode, Header, Validation};
    use serde_json::{json, Value};

    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8037 appendix A's example, recomputed: the key of A.1, the public key of A.2 and
    /// the signature of A.4 over A.4's message.
    #[test]
    fn signs_as_rfc_8037_says() {
        install();
        let seed: [u8; 32] =
            hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .try_into()
                .unwrap();
        assert_eq!(
            public_key(&seed).to_vec(),
            hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
        let message = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let key = EncodingKey::from_ed_der(&pkcs8(&seed));
        let signed = jsonwebtoken::crypto::sign(message, &key, Algorithm::EdDSA).unwrap();
        assert_eq!(
            signed,
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
    }

    #[test]
    fn round_trips_and_refuses_a_changed_token_another_key_or_another_algorithm() {
        install();
        let seed = [7; 32];
        let claims = json!({"sub": "u", "exp": 4_000_000_000u64});
        let private = EncodingKey::from_ed_der(&pkcs8(&seed));
        let token = encode(&Header::new(Algorithm::EdDSA), &claims, &private).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.required_spec_claims.clear();
        let public = DecodingKey::from_ed_der(&public_key(&seed));
        assert_eq!(
            decode::<Value>(&token, &public, &validation)
                .unwrap()
                .claims,
            claims
        );

        let mut changed = token.clone();
        changed.insert(changed.find('.').unwrap() + 2, 'x');
        assert!(decode::<Value>(&changed, &public, &validation).is_err());

        let other = DecodingKey::from_ed_der(&public_key(&[8; 32]));
        assert!(decode::<Value>(&token, &other, &validation).is_err());

        let short = DecodingKey::from_ed_der(&[1; 31]);
        assert!(decode::<Value>(&token, &short, &validation).is_err());

        let refused = encode(&Header::new(Algorithm::HS256), &claims, &private).unwrap_err();
        assert_eq!(refused.kind(), &ErrorKind::InvalidAlgorithm);
    }
}
