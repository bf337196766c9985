//! Parquet files: tracks read through [`ArrowRows`] in the reader's batches, and answers written
//! atomically (zstd-compressed), so a failed run leaves no half-written file.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use hitcast::data::{DataError, ReadOptions};
use hitcast::fsutil::AtomicFile;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use crate::is_parquet;
use crate::rows::BatchRows;

/// The rows of a file of tracks: Parquet when it starts as one, else CSV (plain or gzipped),
/// validated alike.
pub fn open_rows(
    path: &Path,
    options: &ReadOptions,
) -> Result<Box<dyn hitcast::data::RowSource + Send>, DataError> {
    Ok(if is_parquet(path) {
        Box::new(ParquetRows::open(path, options)?)
    } else {
        Box::new(hitcast::data::RowReader::open(path, options)?)
    })
}

/// Reads and validates every row of a table of tracks, Parquet or CSV as [`open_rows`] tells.
pub fn read_file(path: &Path, options: &ReadOptions) -> Result<hitcast::data::Loaded, DataError> {
    if is_parquet(path) {
        hitcast::data::read_all(ParquetRows::open(path, options)?, options.on_error)
    } else {
        hitcast::data::read_rows(path, options)
    }
}

/// Rows of a Parquet file, validated as a CSV's are, read one record batch at a time.
pub type ParquetRows = BatchRows<ParquetRecordBatchReader>;

impl ParquetRows {
    /// Opens the file and matches its columns.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<ParquetRows, DataError> {
        let unreadable = |e: ParquetError| DataError::Unreadable {
            path: path.to_owned(),
            what: "Parquet",
            source: Box::new(e),
        };
        if path.is_dir() {
            return Err(DataError::Open {
                path: path.to_owned(),
                source: io::Error::other("it is a directory"),
            });
        }
        let file = File::open(path).map_err(|source| DataError::Open {
            path: path.to_owned(),
            source,
        })?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(unreadable)?;
        let schema = builder.schema().clone();
        let batches = builder.with_batch_size(8192).build().map_err(unreadable)?;
        BatchRows::new(&schema, batches, options, path, "Parquet")
    }
}

/// A Parquet file being written: it appears at its path only on [`ParquetSink::commit`].
pub struct ParquetSink {
    path: PathBuf,
    writer: ArrowWriter<AtomicFile>,
}

/// Why a Parquet file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Creating, writing or renaming the file failed.
    #[error("{}: cannot write the file", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The encoder refused a batch.
    #[error("{}: cannot encode Parquet", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// The encoder's reason.
        #[source]
        source: ParquetError,
    },
}

impl ParquetSink {
    /// Starts a file of batches of `schema`.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<ParquetSink, WriteError> {
        let file = AtomicFile::create(path).map_err(|source| WriteError::Io {
            path: path.to_owned(),
            source,
        })?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let writer = ArrowWriter::try_new(file, schema, Some(properties)).map_err(|source| {
            WriteError::Encode {
                path: path.to_owned(),
                source,
            }
        })?;
        Ok(ParquetSink {
            path: path.to_owned(),
            writer,
        })
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), WriteError> {
        self.writer
            .write(batch)
            .map_err(|source| WriteError::Encode {
                path: self.path.clone(),
                source,
            })
    }

    /// Finishes the file and moves it into place.
    pub fn commit(self) -> Result<(), WriteError> {
        let path = self.path;
        let file = self
            .writer
            .into_inner()
            .map_err(|source| WriteError::Encode {
                path: path.clone(),
                source,
            })?;
        file.commit()
            .map_err(|source| WriteError::Io { path, source })
    }
}
