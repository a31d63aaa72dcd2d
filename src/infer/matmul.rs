//! The one matrix product of the inference layer: a safe, bounds-checked front to the `gemm`
//! crate (the same kernels burn's flex backend uses), and the only `unsafe` code in aec.

/// A read-only `rows x cols` matrix inside a slice: element `(i, j)` is
/// `data[offset + i * row_stride + j * col_stride]`. Rows may overlap (the neighbourhoods of
/// adjacent pixels share samples), which is how a convolution reads its input without copying.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// The slice the matrix lives in.
    pub data: &'a [f32],
    /// Index of element `(0, 0)`.
    pub offset: usize,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between the starts of consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive elements of a row.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A dense row-major `rows x cols` matrix filling `data`.
    pub fn dense(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self { data, offset: 0, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// Panics unless every element lies inside `data`.
    fn check(&self) {
        if self.rows == 0 || self.cols == 0 {
            return;
        }
        let last = self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        assert!(last < self.data.len(), "matrix reaches element {last} of a slice of {}", self.data.len());
    }
}

/// `out = a · b` (or `out += a · b` when `accumulate`), where `out` is a dense row-major
/// `a.rows x b.cols` matrix. Runs on the calling thread; the order of its additions depends
/// only on the sizes and the CPU's instruction set, not on any other thread.
///
/// # Panics
/// If the shapes do not agree or a matrix reaches outside its slice.
pub fn matmul(out: &mut [f32], a: MatRef<'_>, b: MatRef<'_>, accumulate: bool) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    assert_eq!(out.len(), a.rows * b.cols, "output size");
    a.check();
    b.check();
    if out.is_empty() {
        return;
    }
    if a.cols == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    let stride = |s: usize| isize::try_from(s).expect("stride fits isize");
    #[allow(unsafe_code)]
    // SAFETY: `check` proved that every element of `a` and `b` lies inside its slice, and `out`
    // holds exactly `a.rows * b.cols` elements with row stride `b.cols`; the slices outlive the
    // call and `out` is borrowed mutably, so nothing else reads or writes it meanwhile.
    unsafe {
        gemm::gemm(
            a.rows,
            b.cols,
            a.cols,
            out.as_mut_ptr(),
            1,
            stride(b.cols),
            accumulate,
            a.data.as_ptr().add(a.offset),
            stride(a.col_stride),
            stride(a.row_stride),
            b.data.as_ptr().add(b.offset),
            stride(b.col_stride),
            stride(b.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: MatRef<'_>, b: MatRef<'_>) -> Vec<f32> {
        let mut out = vec![0.0f32; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                let mut sum = 0.0f64;
                for k in 0..a.cols {
                    sum +=
                        f64::from(a.data[a.offset + i * a.row_stride + k * a.col_stride]) * f64::from(b.data[b.offset + k * b.row_stride + j * b.col_stride]);
                }
                out[i * b.cols + j] = sum as f32;
            }
        }
        out
    }

    #[test]
    fn overlapping_strided_products_match_the_definition() {
        let data: Vec<f32> = (0..400).map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0).collect();
        let weights: Vec<f32> = (0..96).map(|i| ((i * 13 % 29) as f32 - 14.0) / 7.0).collect();
        // 20 rows of 12 columns, each row starting 3 elements after the previous one.
        let a = MatRef { data: &data, offset: 5, rows: 20, cols: 12, row_stride: 3, col_stride: 1 };
        // 12 x 8, stored column by column.
        let b = MatRef { data: &weights, offset: 0, rows: 12, cols: 8, row_stride: 1, col_stride: 12 };
        let mut out = vec![1.0f32; 160];
        matmul(&mut out, a, b, false);
        let expected = naive(a, b);
        assert!(out.iter().zip(&expected).all(|(x, y)| (x - y).abs() < 1e-4), "{out:?} != {expected:?}");
        matmul(&mut out, a, b, true);
        assert!(out.iter().zip(&expected).all(|(x, y)| (x - 2.0 * y).abs() < 1e-4));
    }

    #[test]
    #[should_panic(expected = "matrix reaches")]
    fn a_matrix_beyond_its_slice_is_refused() {
        let data = vec![0.0f32; 10];
        let a = MatRef { data: &data, offset: 0, rows: 4, cols: 3, row_stride: 3, col_stride: 1 };
        matmul(&mut [0.0; 4], a, MatRef::dense(&[1.0; 3], 3, 1), false);
    }
}
