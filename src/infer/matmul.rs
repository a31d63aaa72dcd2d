//! The one matrix product of aec: a safe, bounds-checked front to the `gemm` crate (the same
//! kernels burn's flex backend uses), and the only `unsafe` code in the library (the binary
//! has a few `libc` calls of its own in `cli/io.rs`). The inference layer
//! runs its convolutions on it in `f32`; the integer hyper-synthesis runs on it in `f64` where
//! every sum is provably an exact integer (`entropy::intnet`).

/// The element types the kernels take: `f32` and `f64`.
pub trait Element: Copy + Default + 'static + sealed::Sealed {
    /// One.
    const ONE: Self;
}

impl Element for f32 {
    const ONE: Self = 1.0;
}

impl Element for f64 {
    const ONE: Self = 1.0;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A read-only `rows x cols` matrix inside a slice: element `(i, j)` is
/// `data[offset + i * row_stride + j * col_stride]`. Rows may overlap (the neighbourhoods of
/// adjacent pixels share samples), which is how a convolution reads its input without copying.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T = f32> {
    /// The slice the matrix lives in.
    pub data: &'a [T],
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

impl<'a, T> MatRef<'a, T> {
    /// A dense row-major `rows x cols` matrix filling `data`.
    pub fn dense(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self { data, offset: 0, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// Panics unless every element lies inside `data`.
    fn check(&self) {
        check_within(self.data.len(), self.offset, self.rows, self.cols, self.row_stride, self.col_stride);
    }
}

/// Panics unless a `rows x cols` matrix at `offset` with these strides lies inside `len`
/// elements.
fn check_within(len: usize, offset: usize, rows: usize, cols: usize, row_stride: usize, col_stride: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    let last = (rows - 1)
        .checked_mul(row_stride)
        .and_then(|r| (cols - 1).checked_mul(col_stride).and_then(|c| r.checked_add(c)))
        .and_then(|rc| rc.checked_add(offset));
    assert!(last.is_some_and(|last| last < len), "matrix reaches element {last:?} of a slice of {len}");
}

/// `out = a · b` (or `out += a · b` when `accumulate`), where `out` is a dense row-major
/// `a.rows x b.cols` matrix. Runs on the calling thread; the order of its additions depends on
/// the sizes and on the CPU (its instruction set and cache sizes), not on any other thread.
///
/// # Panics
/// If the shapes do not agree or a matrix reaches outside its slice.
pub fn matmul<T: Element>(out: &mut [T], a: MatRef<'_, T>, b: MatRef<'_, T>, accumulate: bool) {
    assert_eq!(Some(out.len()), a.rows.checked_mul(b.cols), "output size");
    let cols = b.cols;
    matmul_strided(out, (cols, 1), a, b, accumulate);
}

/// [`matmul`] into a dense output in either layout: element `(i, j)` is
/// `out[i * strides.0 + j * strides.1]` with `strides` = `(cols, 1)` (row by row) or
/// `(1, rows)` (column by column).
///
/// # Panics
/// If the shapes do not agree or a matrix reaches outside its slice.
pub fn matmul_strided<T: Element>(out: &mut [T], strides: (usize, usize), a: MatRef<'_, T>, b: MatRef<'_, T>, accumulate: bool) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    // A dense layout: distinct output elements never share an index.
    assert!(strides == (b.cols, 1) || strides == (1, a.rows), "output strides {strides:?} are not a dense layout of {} x {}", a.rows, b.cols);
    check_within(out.len(), 0, a.rows, b.cols, strides.0, strides.1);
    a.check();
    b.check();
    if a.rows == 0 || b.cols == 0 {
        return;
    }
    if a.cols == 0 {
        if !accumulate {
            for i in 0..a.rows {
                for j in 0..b.cols {
                    out[i * strides.0 + j * strides.1] = T::default();
                }
            }
        }
        return;
    }
    let stride = |s: usize| isize::try_from(s).expect("stride fits isize");
    #[allow(unsafe_code)]
    // SAFETY: the checks proved (without overflow) that every element `gemm` reads or writes
    // (of `a`, `b` and `out`, given their sizes and strides) lies inside its slice, so every
    // offset is below the slice's length and fits an `isize`; the output layout is dense, so
    // no two output elements share an index; the slices outlive the call and `out` is borrowed
    // mutably, so nothing else reads or writes it meanwhile. `gemm` takes `f32` and `f64`, the
    // only `Element`s.
    unsafe {
        gemm::gemm(
            a.rows,
            b.cols,
            a.cols,
            out.as_mut_ptr(),
            stride(strides.1),
            stride(strides.0),
            accumulate,
            a.data.as_ptr().add(a.offset),
            stride(a.col_stride),
            stride(a.row_stride),
            b.data.as_ptr().add(b.offset),
            stride(b.col_stride),
            stride(b.row_stride),
            T::ONE,
            T::ONE,
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
    fn strides_that_overflow_are_refused() {
        let data = vec![0.0f32; 4];
        let a = MatRef { data: &data, offset: 2, rows: 3, cols: 1, row_stride: usize::MAX / 2 + 1, col_stride: 1 };
        matmul(&mut [0.0; 3], a, MatRef::dense(&[1.0], 1, 1), false);
    }

    #[test]
    #[should_panic(expected = "not a dense layout")]
    fn output_layouts_that_alias_are_refused() {
        let data = vec![1.0f32; 4];
        matmul_strided(&mut [0.0; 4], (0, 0), MatRef::dense(&data, 2, 2), MatRef::dense(&data, 2, 2), false);
    }

    #[test]
    #[should_panic(expected = "matrix reaches")]
    fn a_matrix_beyond_its_slice_is_refused() {
        let data = vec![0.0f32; 10];
        let a = MatRef { data: &data, offset: 0, rows: 4, cols: 3, row_stride: 3, col_stride: 1 };
        matmul(&mut [0.0; 4], a, MatRef::dense(&[1.0; 3], 3, 1), false);
    }
}
