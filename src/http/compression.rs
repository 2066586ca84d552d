//! Response compression, negotiated with the client's Accept-Encoding: brotli when accepted,
//! else gzip, else none. Only JSON, HTML, CSS and JavaScript of at least [`MIN_BYTES`] are compressed — small
//! bodies gain nothing and pay CPU. (warp's own compression filters compress whether or not the
//! client accepts it, so they cannot be used as they are.)

use std::io::Write;

use http_body_util::BodyExt;
use warp::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use warp::http::HeaderValue;
use warp::reply::Response;

pub const MIN_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

/// The best coding the client accepts (ignoring codings it gives q=0).
pub fn choose(accept_encoding: &str) -> Option<Coding> {
    let accepted = |name: &str| {
        accept_encoding.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    if accepted("br") {
        Some(Coding::Brotli)
    } else if accepted("gzip") {
        Some(Coding::Gzip)
    } else {
        None
    }
}

fn compressible(response: &Response) -> bool {
    if response.headers().contains_key(CONTENT_ENCODING) {
        return false;
    }
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            [
                "application/json",
                "text/html",
                "text/css",
                "text/javascript",
            ]
            .iter()
            .any(|compressible| t.starts_with(compressible))
        })
}

pub async fn negotiate(accept_encoding: &str, response: Response) -> Response {
    let Some(coding) = choose(accept_encoding) else {
        return response;
    };
    if !compressible(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::warn!(%error, "response body could not be read for compression");
            return Response::from_parts(parts, bytes::Bytes::new().into());
        }
    };
    parts
        .headers
        .append(VARY, HeaderValue::from_static("Accept-Encoding"));
    if bytes.len() < MIN_BYTES {
        return Response::from_parts(parts, bytes.into());
    }
    let (compressed, name) = match coding {
        Coding::Brotli => (brotli_bytes(&bytes), "br"),
        Coding::Gzip => (gzip_bytes(&bytes), "gzip"),
    };
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_ENCODING, HeaderValue::from_static(name));
    Response::from_parts(parts, bytes::Bytes::from(compressed).into())
}

fn gzip_bytes(input: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(input).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

fn brotli_bytes(input: &[u8]) -> Vec<u8> {
    // Quality 4: most of brotli's gain at a fraction of its top settings' CPU.
    let mut output = Vec::with_capacity(input.len() / 3);
    {
        let mut writer = brotli::CompressorWriter::new(&mut output, 4096, 4, 22);
        writer.write_all(input).expect("writing to memory");
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_first_then_gzip_and_q_zero_refuses() {
        assert_eq!(choose("gzip, deflate, br"), Some(Coding::Brotli));
        assert_eq!(choose("gzip"), Some(Coding::Gzip));
        assert_eq!(choose("br;q=0, gzip;q=0.5"), Some(Coding::Gzip));
        assert_eq!(choose("identity"), None);
        assert_eq!(choose(""), None);
    }
}
