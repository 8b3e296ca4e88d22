//! Base64 as Firehose uses it: standard alphabet, padded.
//!
//! Every record's data is decoded and every output encoded, so this is the
//! hottest code in a passthrough. The work is done by `base64-simd` (the base64
//! crate the AWS SDK for Rust uses), several times faster than the scalar
//! `base64` crate; when data turns out to be invalid, the `base64` crate decodes
//! it again only to say *where* ("Invalid symbol 33, offset 4."), which
//! `base64-simd` does not report.

use base64::Engine as _;

/// The length of the padded base64 text for `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Decodes standard base64 (padding optional) onto the end of `out`. On error,
/// `out` is left with unspecified extra bytes and the message says what is wrong
/// and at which offset.
pub(crate) fn decode_append(text: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 0 {
        return base64_simd::STANDARD
            .decode_append(bytes, out)
            .map_err(|_| describe_error(text));
    }
    // Hand-made events often leave out the padding, or some of it (`aGk`
    // for `aGk=`, `YQ=` for `YQ==`); Firehose's never do. What padding there
    // is must be no more than the data needs.
    let data = text.trim_end_matches('=');
    let needed = (4 - data.len() % 4) % 4;
    if text.len() - data.len() > needed.min(2) {
        return Err(describe_error(text));
    }
    base64_simd::STANDARD_NO_PAD
        .decode_append(data.as_bytes(), out)
        .map_err(|_| describe_error(text))
}

fn describe_error(text: &str) -> String {
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    match lenient.decode(text) {
        Err(error) => error.to_string(),
        // The two crates disagree only on what the scalar one tolerates.
        Ok(_) => "not canonical base64 (non-zero trailing bits)".to_string(),
    }
}

/// Appends the padded base64 of `bytes` to `out` (a `String` or a
/// `Vec<u8>`, such as a response's JSON).
pub(crate) fn encode_append<Out: base64_simd::AppendBase64Encode>(bytes: &[u8], out: &mut Out) {
    base64_simd::STANDARD.encode_append(bytes, out);
}

/// Decodes into a new vector (tests and tools; not the hot path).
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    decode_append(text, &mut out).map(|()| out)
}

/// Encodes into a new string.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(bytes.len()));
    encode_append(bytes, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn errors_say_where() {
        assert_eq!(decode("aGk!").unwrap_err(), "Invalid symbol 33, offset 3.");
        assert_eq!(decode("aGk").unwrap(), b"hi");
    }

    proptest! {
        #[test]
        fn agrees_with_the_base64_crate(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let ours = encode(&bytes);
            prop_assert_eq!(&ours, &base64::engine::general_purpose::STANDARD.encode(&bytes));
            prop_assert_eq!(ours.len(), encoded_len(bytes.len()));
            prop_assert_eq!(decode(&ours).unwrap(), bytes.clone());
            prop_assert_eq!(decode(ours.trim_end_matches('=')).unwrap(), bytes);
        }

        #[test]
        fn rejects_what_the_base64_crate_rejects(text in "[A-Za-z0-9+/=!-]{0,12}") {
            let strict = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            );
            prop_assert_eq!(decode(&text).ok(), strict.decode(&text).ok());
        }
    }
}
