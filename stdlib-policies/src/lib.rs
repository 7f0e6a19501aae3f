//! rampart's standard library: the `.rampart` files under `policies/`,
//! embedded at build time so the binary needs no files at run time.

include!(concat!(env!("OUT_DIR"), "/files.rs"));

#[cfg(test)]
mod tests {
    #[test]
    fn files_are_embedded() {
        assert!(!super::FILES.is_empty());
        for (path, text) in super::FILES {
            assert!(path.ends_with(".rampart"));
            assert!(text.contains("package "), "{path}");
        }
    }
}
