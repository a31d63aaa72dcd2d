//! The latents in several streams (section kind 4): a version-2 file coded with the range coder
//! may split its latents `y` by channels into `N` streams, each a whole range-coded payload
//! that decodes on its own, so that `N` cores decode them at once. Stream 0 is the latent
//! section (kind 2) and starts at channel 0; the section of kind 4 holds streams 1 to `N − 1`:
//!
//! | size | field |
//! |---:|---|
//! | 1 | `m = N − 1`, 1 to 15 |
//! | 2·m | the first channel of each of these streams, `u16`, increasing, above 0 |
//! | 4·m | the byte length of each of these streams, `u32` |
//! | ΣLⱼ | the streams, in order |
//!
//! A stream holds the channels from its first to the next stream's first (the last one to the
//! last channel), channel by channel as a single stream would: the encoder chooses where to
//! split (so that the streams take about as long to decode). Bytes only: which values and
//! tables a stream codes is the entropy layer's business.

use std::ops::Range;

use byteorder::{ByteOrder, LittleEndian as LE};

use super::error::FormatError;

/// Most streams a file's latents may be split into.
pub const MAX_STREAMS: usize = 16;

/// Bytes of the further-streams section besides the streams themselves, for `further` streams
/// after the first: the count, then each one's first channel and length.
pub fn section_head_len(further: usize) -> usize {
    1 + (2 + 4) * further
}

/// One stream of a file's latents: its first channel and its payload.
pub type Stream<'a> = (usize, &'a [u8]);

/// The streams of a file's latents: the latent section's payload `first` (from channel 0),
/// then those of the further-streams section `further` (kind 4) if there is one.
///
/// # Errors
/// [`FormatError::CorruptPayload`] if `further` does not hold 1 to 15 streams with increasing
/// first channels above 0 and lengths that add up to exactly the rest of it.
pub fn split_streams<'a>(first: &'a [u8], further: Option<&'a [u8]>) -> Result<Vec<Stream<'a>>, FormatError> {
    let mut streams = vec![(0, first)];
    let Some(further) = further else { return Ok(streams) };
    let bad = |why: &str| FormatError::CorruptPayload(format!("latent streams: {why}"));
    let (&count, rest) = further.split_first().ok_or_else(|| bad("empty section"))?;
    let count = usize::from(count);
    if count == 0 || count >= MAX_STREAMS {
        return Err(bad("stream count"));
    }
    let (starts, rest) = rest.split_at_checked(2 * count).ok_or_else(|| bad("truncated first channels"))?;
    let (lengths, mut data) = rest.split_at_checked(4 * count).ok_or_else(|| bad("truncated lengths"))?;
    let starts: Vec<usize> = starts.chunks_exact(2).map(|c| usize::from(LE::read_u16(c))).collect();
    if starts[0] == 0 || starts.windows(2).any(|p| p[0] >= p[1]) {
        return Err(bad("first channels not increasing"));
    }
    let total: u64 = lengths.chunks_exact(4).map(|l| u64::from(LE::read_u32(l))).sum();
    if total != data.len() as u64 {
        return Err(bad("the lengths do not add up to the section"));
    }
    for (&start, length) in starts.iter().zip(lengths.chunks_exact(4)) {
        let (stream, tail) = data.split_at(LE::read_u32(length) as usize);
        streams.push((start, stream));
        data = tail;
    }
    Ok(streams)
}

/// The payload of the further-streams section for `streams` (2 to [`MAX_STREAMS`], the first
/// starting at channel 0): the count, first channels and lengths of all but the first, then
/// those streams.
///
/// # Panics
/// If there are fewer than 2 or more than [`MAX_STREAMS`] streams, their first channels do not
/// start at 0 and increase within `u16`, or one is 4 GiB or longer (a caller's bug).
pub fn join_streams(streams: &[Stream<'_>]) -> Vec<u8> {
    assert!((2..=MAX_STREAMS).contains(&streams.len()), "2 to 16 streams");
    assert!(streams[0].0 == 0 && streams.windows(2).all(|p| p[0].0 < p[1].0), "increasing first channels from 0");
    let further = &streams[1..];
    let mut out = Vec::with_capacity(section_head_len(further.len()) + further.iter().map(|s| s.1.len()).sum::<usize>());
    out.push(further.len() as u8);
    for &(start, _) in further {
        out.extend_from_slice(&u16::try_from(start).expect("a channel number within u16").to_le_bytes());
    }
    for (_, stream) in further {
        out.extend_from_slice(&u32::try_from(stream.len()).expect("a stream under 4 GiB").to_le_bytes());
    }
    further.iter().for_each(|s| out.extend_from_slice(s.1));
    out
}

/// The channels of each stream, of `channels` in all, from the streams' first channels.
pub fn stream_channels(firsts: &[usize], channels: usize) -> Vec<Range<usize>> {
    firsts.iter().zip(firsts.iter().skip(1).chain([&channels])).map(|(&a, &b)| a..b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_round_trip_and_malformed_sections_are_refused() {
        let (a, b, c): (&[u8], &[u8], &[u8]) = (b"first", b"second stream", b"");
        let further = join_streams(&[(0, a), (5, b), (9, c)]);
        assert_eq!(further[..3], [2, 5, 0]);
        assert_eq!(further.len(), section_head_len(2) + b.len() + c.len());
        assert_eq!(split_streams(a, Some(&further)).unwrap(), vec![(0, a), (5, b), (9, c)]);
        assert_eq!(split_streams(a, None).unwrap(), vec![(0, a)]);
        let with = |starts: [u16; 2]| [&[2u8][..], &starts[0].to_le_bytes(), &starts[1].to_le_bytes(), &further[5..]].concat();
        for bad in [&[][..], &[0][..], &[16, 0, 0, 0, 0][..], &further[..further.len() - 1], &[further.as_slice(), b"x"].concat()[..], &further[..6]] {
            assert!(matches!(split_streams(a, Some(bad)), Err(FormatError::CorruptPayload(_))), "{bad:?}");
        }
        for starts in [[0, 9], [5, 5], [9, 5]] {
            assert!(split_streams(a, Some(&with(starts))).is_err(), "{starts:?}");
        }
        assert!(split_streams(a, Some(&with([5, 9]))).is_ok());
        // Lengths that overflow 32 bits when added are refused, not wrapped.
        let huge = [&[2u8, 1, 0, 2, 0][..], &u32::MAX.to_le_bytes(), &2u32.to_le_bytes(), b"x"].concat();
        assert!(split_streams(a, Some(&huge)).is_err());
    }

    #[test]
    fn a_stream_holds_the_channels_up_to_the_next_ones_first() {
        assert_eq!(stream_channels(&[0, 60], 192), vec![0..60, 60..192]);
        assert_eq!(stream_channels(&[0], 7), vec![0..7]);
    }
}
