//! The smallest tar that the engine's archive API needs: one regular file,
//! written and read back.

/// A tar archive holding one file `name` with `content`.
pub fn single_file(name: &str, content: &[u8], mtime: u64) -> Vec<u8> {
    let mut header = [0u8; 512];
    put(&mut header[0..100], name.as_bytes());
    put(&mut header[100..108], b"0000644\0");
    put(&mut header[108..116], b"0000000\0");
    put(&mut header[116..124], b"0000000\0");
    put(
        &mut header[124..136],
        format!("{:011o}\0", content.len()).as_bytes(),
    );
    put(
        &mut header[136..148],
        format!("{:011o}\0", mtime).as_bytes(),
    );
    header[156] = b'0';
    put(&mut header[257..263], b"ustar\0");
    put(&mut header[263..265], b"00");
    // The checksum is computed with its own field read as spaces.
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    put(&mut header[148..156], format!("{sum:06o}\0 ").as_bytes());

    let mut archive = header.to_vec();
    archive.extend_from_slice(content);
    archive.resize(archive.len().div_ceil(512) * 512, 0);
    archive.extend_from_slice(&[0u8; 1024]);
    archive
}

/// The content of the first file in a tar archive, if it has one.
pub fn first_file(archive: &[u8]) -> Option<Vec<u8>> {
    let header = archive.get(..512)?;
    if header.iter().all(|&b| b == 0) {
        return None;
    }
    let size_field = std::str::from_utf8(&header[124..136]).ok()?;
    let size =
        usize::from_str_radix(size_field.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok()?;
    archive.get(512..512 + size).map(<[u8]>::to_vec)
}

fn put(field: &mut [u8], bytes: &[u8]) {
    let len = bytes.len().min(field.len());
    field[..len].copy_from_slice(&bytes[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_written_is_read_back() {
        let archive = single_file("phases.json", b"{\"web\":\"running\"}", 0);
        assert_eq!(archive.len() % 512, 0);
        assert_eq!(first_file(&archive).unwrap(), b"{\"web\":\"running\"}");
    }

    #[test]
    fn an_empty_or_truncated_archive_has_no_file() {
        assert_eq!(first_file(&[0u8; 1024]), None);
        assert_eq!(first_file(&[1u8; 100]), None);
        let archive = single_file("f", &[7u8; 600], 0);
        assert_eq!(first_file(&archive[..700]), None);
    }

    #[test]
    fn the_header_checksum_matches_what_tar_expects() {
        let archive = single_file("f", b"x", 0);
        let stored = std::str::from_utf8(&archive[148..154]).unwrap();
        let mut header = archive[..512].to_vec();
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        assert_eq!(u32::from_str_radix(stored, 8).unwrap(), sum);
    }
}
