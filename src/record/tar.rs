//! The one-file tar archives the engine's archive API takes and gives, with
//! the `tar` crate: what the engine returns may carry PAX or GNU extension
//! headers (Go's archive/tar writes them for long names and some times),
//! which are not the file.

use std::io::Read;

/// A tar archive holding one file `name` with `content`.
pub fn single_file(name: &str, content: &[u8], mtime: u64) -> Vec<u8> {
    let mut header = tar::Header::new_ustar();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_data(&mut header, name, content)
        .expect("writing a tar into memory cannot fail");
    builder
        .into_inner()
        .expect("finishing a tar in memory cannot fail")
}

/// The content of the first regular file in a tar archive, if it has one
/// (extension headers, directories and links are passed over).
pub fn first_file(archive: &[u8]) -> Option<Vec<u8>> {
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let size = entry.size();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).ok()?;
        // A cut archive reads short without an error.
        return (content.len() as u64 == size).then_some(content);
    }
    None
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
    fn a_pax_extension_header_is_not_taken_for_the_file() {
        let mut builder = tar::Builder::new(Vec::new());
        builder
            .append_pax_extensions([("mtime", b"1700000000.123456789".as_slice())])
            .unwrap();
        let mut header = tar::Header::new_ustar();
        header.set_size(7);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, "phases.json", b"{\"a\":1}".as_slice())
            .unwrap();
        let archive = builder.into_inner().unwrap();
        assert_eq!(archive[156], b'x', "the first header is the PAX one");
        assert_eq!(first_file(&archive).unwrap(), b"{\"a\":1}");
    }

    #[test]
    fn a_gnu_long_name_header_is_not_taken_for_the_file() {
        let long = format!("{}/phases.json", "d".repeat(120));
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(7);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, &long, b"{\"b\":2}".as_slice())
            .unwrap();
        let archive = builder.into_inner().unwrap();
        assert_eq!(archive[156], b'L', "the first header is the GNU long name");
        assert_eq!(first_file(&archive).unwrap(), b"{\"b\":2}");
    }

    #[test]
    fn a_directory_before_the_file_is_passed_over() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_ustar();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_size(0);
        builder
            .append_data(&mut dir, "state/", std::io::empty())
            .unwrap();
        let mut file = tar::Header::new_ustar();
        file.set_size(3);
        file.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut file, "state/phases.json", b"{ }".as_slice())
            .unwrap();
        let archive = builder.into_inner().unwrap();
        assert_eq!(first_file(&archive).unwrap(), b"{ }");
    }
}
