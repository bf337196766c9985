//! Writing files so that a reader sees the old file or the new one, never half of one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to a temporary file beside `path`, syncs it, then renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temporary(path)?;
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A file written in place of `path` through a temporary beside it: [`AtomicFile::commit`]
/// renames it over `path`; dropping it uncommitted (an error part-way) removes the temporary and
/// leaves `path` as it was.
pub struct AtomicFile {
    tmp: PathBuf,
    path: PathBuf,
    file: Option<io::BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let tmp = temporary(path)?;
        let file = File::create(&tmp)?;
        Ok(AtomicFile {
            tmp,
            path: path.to_owned(),
            file: Some(io::BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// Flushes, syncs and renames over the destination.
    pub fn commit(mut self) -> io::Result<()> {
        if let Some(writer) = self.file.take() {
            let file = writer
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?;
            file.sync_all()?;
            fs::rename(&self.tmp, &self.path)?;
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("the file was already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

fn temporary(path: &Path) -> io::Result<PathBuf> {
    sibling(path, &format!("tmp-{}", std::process::id()))
}

/// Puts the finished directory `new` in place of `target`: `target` moves aside, `new` takes
/// its name, and the old one is removed. Work interrupted before this call leaves `target` as
/// it was. Two renames, not one (no portable atomic exchange of directories): between them,
/// for a moment, the old contents sit at `.NAME.old-PID` beside `target`.
pub fn replace_dir(new: &Path, target: &Path) -> io::Result<()> {
    let aside = sibling(target, &format!("old-{}", std::process::id()))?;
    let had_old = match fs::rename(target, &aside) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    if let Err(e) = fs::rename(new, target) {
        if had_old {
            let _ = fs::rename(&aside, target);
        }
        return Err(e);
    }
    if had_old {
        fs::remove_dir_all(&aside)?;
    }
    Ok(())
}

/// `dir/.name.tag` beside `path`: a hidden sibling for temporaries.
pub fn sibling(path: &Path, tag: &str) -> io::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path names no directory")
    })?;
    Ok(dir.join(format!(".{}.{tag}", name.to_string_lossy())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = crate::testutil::ScratchDir::new("atomic");
        let path = dir.join("out.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        assert!(write_atomic(&dir.join("missing/x"), b"").is_err());
    }

    #[test]
    fn an_uncommitted_file_leaves_the_old_one() {
        let dir = crate::testutil::ScratchDir::new("atomicfile");
        let path = dir.join("out.csv");
        fs::write(&path, "old").unwrap();
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"half").unwrap();
        } // dropped: an error part-way
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_directory_is_replaced_whole() {
        let root = crate::testutil::ScratchDir::new("replace");
        let (target, new) = (root.join("latest"), root.join("next"));
        fs::create_dir_all(&new).unwrap();
        fs::write(new.join("a"), "1").unwrap();
        replace_dir(&new, &target).unwrap();
        assert_eq!(fs::read_to_string(target.join("a")).unwrap(), "1");
        fs::create_dir_all(&new).unwrap();
        fs::write(new.join("b"), "2").unwrap();
        replace_dir(&new, &target).unwrap();
        assert!(!target.join("a").exists(), "the old contents are gone");
        assert_eq!(fs::read_to_string(target.join("b")).unwrap(), "2");
        let left: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["latest"]);
        // A missing new directory leaves the target as it was.
        assert!(replace_dir(&new, &target).is_err());
        assert_eq!(fs::read_to_string(target.join("b")).unwrap(), "2");
        fs::remove_dir_all(&root).unwrap();
    }
}
