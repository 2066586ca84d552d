//! Request bodies read whole under a size limit that holds with or without a Content-Length
//! header. The refusal is a rejection of its own ([`BodyRefused`]); each endpoint words it in
//! its protocol (the REST dialects as a 413 or 400 error body, Engine.IO as a bare 413).

use bytes::{Buf, Bytes, BytesMut};
use futures_util::StreamExt;
use warp::{Filter, Rejection};

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyRefused {
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("request body could not be read")]
    Unreadable,
}

impl warp::reject::Reject for BodyRefused {}

/// The raw body, refused with 413 past `limit` bytes: at once when Content-Length says so,
/// otherwise as soon as a streamed (chunked) body crosses the limit.
pub fn limited(limit: u64) -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(move |declared: Option<u64>, stream| async move {
            read(declared, stream, limit)
                .await
                .map_err(warp::reject::custom)
        })
}

/// Reads the whole body, or refuses it: past `limit` bytes (declared or streamed), or when the
/// connection fails mid-body.
pub async fn read<S, B>(declared: Option<u64>, stream: S, limit: u64) -> Result<Bytes, BodyRefused>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let too_large = BodyRefused::TooLarge { limit };
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large);
    }
    let mut stream = std::pin::pin!(stream);
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| BodyRefused::Unreadable)?;
        if body.len() as u64 + chunk.remaining() as u64 > limit {
            return Err(too_large);
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let n = part.len();
            body.extend_from_slice(part);
            chunk.advance(n);
        }
    }
    Ok(body.freeze())
}
