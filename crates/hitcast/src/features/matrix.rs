//! A dense, row-major matrix of named feature columns.

use std::sync::Arc;

/// Rows of features, every row `names().len()` wide.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureMatrix {
    /// Shared with the pipeline that made it: a one-track matrix per request must not copy a
    /// hundred names.
    names: Arc<[String]>,
    data: Vec<f64>,
}

impl FeatureMatrix {
    /// Wraps row-major data. Returns `None` unless `data.len()` is a multiple of the width
    /// (and the width is not zero).
    pub fn new(names: impl Into<Arc<[String]>>, data: Vec<f64>) -> Option<FeatureMatrix> {
        let names = names.into();
        (!names.is_empty() && data.len().is_multiple_of(names.len()))
            .then_some(FeatureMatrix { names, data })
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.names.len()
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.data.len() / self.names.len()
    }

    /// One row.
    pub fn row(&self, i: usize) -> &[f64] {
        let w = self.n_cols();
        &self.data[i * w..(i + 1) * w]
    }

    /// All rows in order.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f64> {
        self.data.chunks_exact(self.n_cols())
    }

    /// One column, top to bottom.
    pub fn column(&self, j: usize) -> impl Iterator<Item = f64> + '_ {
        self.data.iter().skip(j).step_by(self.n_cols()).copied()
    }

    /// The matrix without the named columns (names not present are ignored).
    pub fn without(&self, drop: &[String]) -> FeatureMatrix {
        let keep: Vec<usize> = (0..self.n_cols())
            .filter(|&j| !drop.contains(&self.names[j]))
            .collect();
        if keep.len() == self.n_cols() {
            return self.clone();
        }
        let names: Arc<[String]> = keep.iter().map(|&j| self.names[j].clone()).collect();
        let data = self
            .rows()
            .flat_map(|r| keep.iter().map(move |&j| r[j]))
            .collect();
        FeatureMatrix { names, data }
    }

    /// The rows `rows`, in that order (repeats allowed).
    pub fn select_rows(&self, rows: &[usize]) -> FeatureMatrix {
        let data = rows
            .iter()
            .flat_map(|&i| self.row(i).iter().copied())
            .collect();
        FeatureMatrix {
            names: Arc::clone(&self.names),
            data,
        }
    }

    /// The row-major values.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }
}

/// Rows that differ from their first row in a few columns: a what-if curve's variants of one
/// track. Every model can score the rows; tree models also read which columns vary, to walk each
/// tree once for many rows (hessboost's `RowVariants`) instead of once per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Variants<'a> {
    rows: &'a FeatureMatrix,
    varying: Vec<usize>,
}

impl<'a> Variants<'a> {
    /// The rows, described by the columns in which any of them differs from the first.
    pub fn new(rows: &'a FeatureMatrix) -> Variants<'a> {
        let varying = match rows.rows().next() {
            Some(first) => (0..rows.n_cols())
                .filter(|&j| rows.column(j).any(|v| v.to_bits() != first[j].to_bits()))
                .collect(),
            None => Vec::new(),
        };
        Variants { rows, varying }
    }

    /// The rows themselves.
    pub fn rows(&self) -> &'a FeatureMatrix {
        self.rows
    }

    /// The columns that vary, ascending: outside them every row equals the first.
    pub fn varying(&self) -> &[usize] {
        &self.varying
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_name_the_columns_that_differ_from_the_first_row() {
        let names = vec!["a".into(), "b".into(), "c".into()];
        let m =
            FeatureMatrix::new(names.clone(), vec![1., 2., 3., 1., 5., 3., 1., 2., 3.]).unwrap();
        let v = Variants::new(&m);
        assert_eq!((v.varying(), v.rows()), (&[1][..], &m));
        let one = FeatureMatrix::new(names.clone(), vec![1., 2., 3.]).unwrap();
        assert!(Variants::new(&one).varying().is_empty());
        let none = FeatureMatrix::new(names, vec![]).unwrap();
        assert!(Variants::new(&none).varying().is_empty());
    }

    #[test]
    fn rows_and_columns() {
        let m =
            FeatureMatrix::new(vec!["a".into(), "b".into()], vec![1., 2., 3., 4., 5., 6.]).unwrap();
        assert_eq!((m.n_rows(), m.n_cols()), (3, 2));
        assert_eq!(m.row(1), [3., 4.]);
        assert_eq!(m.column(1).collect::<Vec<_>>(), [2., 4., 6.]);
        assert_eq!(m.rows().count(), 3);
        assert!(FeatureMatrix::new(vec!["a".into(), "b".into()], vec![1.]).is_none());
        assert!(FeatureMatrix::new(vec![], vec![]).is_none());
        let b = m.without(&["a".into(), "zzz".into()]);
        assert_eq!(
            (b.names(), b.as_slice()),
            (&["b".to_owned()][..], &[2., 4., 6.][..])
        );
    }
}
