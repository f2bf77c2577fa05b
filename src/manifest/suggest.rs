//! "Did you mean …?": the known key nearest to a misspelt one.

/// The message for an unknown key `typed` among `known`: a suggestion when
/// one is close enough, else the list of keys that are known.
pub(super) fn unknown_key(typed: &str, known: &[&str]) -> String {
    match nearest(typed, known) {
        Some(key) => format!("unknown key; did you mean `{key}`?"),
        None => format!("unknown key (expected one of: {})", known.join(", ")),
    }
}

/// The known key closest to `typed`: within edit distance 2, or 1 when either
/// word has 4 characters or fewer. Ties go to the earlier key in `known`.
pub(super) fn nearest<'k>(typed: &str, known: &[&'k str]) -> Option<&'k str> {
    let typed = typed.to_lowercase();
    known
        .iter()
        .filter_map(|key| {
            let shortest = typed.chars().count().min(key.chars().count());
            let limit = if shortest <= 4 { 1 } else { 2 };
            let distance = edit_distance(&typed, key);
            (distance <= limit).then_some((distance, *key))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, key)| key)
}

/// Levenshtein distance between `a` and `b`, counted in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["name", "image", "memory", "env", "ports", "restart"];

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("memory", "memory"), 0);
        assert_eq!(edit_distance("memroy", "memory"), 2);
        assert_eq!(edit_distance("mem", "memory"), 3);
        assert_eq!(edit_distance("", "env"), 3);
        assert_eq!(edit_distance("wéb", "web"), 1);
    }

    #[test]
    fn a_transposed_key_suggests_the_nearest_field() {
        assert_eq!(nearest("memroy", KEYS), Some("memory"));
        assert_eq!(nearest("restrat", KEYS), Some("restart"));
        assert_eq!(nearest("Image", KEYS), Some("image"));
    }

    #[test]
    fn short_keys_only_get_a_suggestion_one_edit_away() {
        assert_eq!(nearest("nam", KEYS), Some("name"));
        assert_eq!(nearest("envs", KEYS), Some("env"));
        assert_eq!(nearest("nmae", KEYS), None);
        assert_eq!(nearest("ev", KEYS), Some("env"));
    }

    #[test]
    fn nothing_is_suggested_when_no_key_is_close() {
        assert_eq!(nearest("frobnicate", KEYS), None);
        let message = unknown_key("frobnicate", KEYS);
        assert!(!message.contains("did you mean"), "{message}");
        assert!(message.contains("name, image, memory"), "{message}");
    }
}
