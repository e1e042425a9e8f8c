//! Results by (format, operation, implementation), and the markdown tables
//! `docs/performance.md` shows.

use std::fmt::Write as _;

use crate::alloc::allocations_per_call;
use crate::suite::{FORMATS, IMPLS, Op, Runner};

/// The baseline every ratio is taken against.
pub const CEILING: &str = "hand";

/// One number per (format, operation, implementation).
#[derive(Debug, Default, Clone)]
pub struct Table {
    cells: Vec<(&'static str, Op, &'static str, f64)>,
}

impl Table {
    /// Records a number.
    pub fn insert(&mut self, format: &'static str, op: Op, imp: &'static str, value: f64) {
        self.cells.push((format, op, imp, value));
    }

    /// The number recorded for a cell.
    pub fn get(&self, format: &str, op: Op, imp: &str) -> Option<f64> {
        self.cells
            .iter()
            .find(|(f, o, i, _)| *f == format && *o == op && *i == imp)
            .map(|c| c.3)
    }

    /// Median ns/op per implementation with the ratio to the hand-tuned parser.
    pub fn render_times(&self) -> String {
        self.render(|value, ceiling| match (value, ceiling) {
            (Some(v), Some(c)) if c > 0.0 => format!("{v:.1} ({:.2}x)", v / c),
            (Some(v), _) => format!("{v:.1}"),
            (None, _) => "pending".to_owned(),
        })
    }

    /// Allocations per operation per implementation.
    pub fn render_allocs(&self) -> String {
        self.render(|value, _| match value {
            Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
            Some(v) => format!("{v:.2}"),
            None => "pending".to_owned(),
        })
    }

    fn render(&self, cell: impl Fn(Option<f64>, Option<f64>) -> String) -> String {
        let mut out = String::new();
        for format in FORMATS {
            let _ = writeln!(out, "\n{format}\n");
            let _ = writeln!(out, "| operation | {} |", IMPLS.join(" | "));
            let _ = writeln!(out, "|---|{}", "---:|".repeat(IMPLS.len()));
            for op in Op::ALL {
                let ceiling = self.get(format, op, CEILING);
                let cells: Vec<String> = IMPLS
                    .iter()
                    .map(|imp| cell(self.get(format, op, imp), ceiling))
                    .collect();
                let _ = writeln!(out, "| {} | {} |", op.name(), cells.join(" | "));
            }
        }
        out
    }
}

/// A runner that counts allocations per call of every operation.
#[derive(Debug)]
pub struct CountAllocs {
    /// Calls averaged per cell.
    pub runs: u32,
    /// The counts.
    pub table: Table,
}

impl CountAllocs {
    /// A counter averaging over `runs` calls per cell.
    pub fn new(runs: u32) -> Self {
        CountAllocs {
            runs,
            table: Table::default(),
        }
    }
}

impl Runner for CountAllocs {
    fn run<R>(&mut self, format: &'static str, op: Op, imp: &'static str, f: impl FnMut() -> R) {
        let n = allocations_per_call(self.runs, f);
        self.table.insert(format, op, imp, n);
    }
}

/// The middle of `values` (the lower of the two middle ones for an even count); `None`
/// when there are none.
pub fn middle(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len().checked_sub(1)? / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::middle;

    #[test]
    fn middle_ignores_one_outlier_among_three() {
        assert_eq!(middle(vec![46.0, 28.1, 27.9]), Some(28.1));
        assert_eq!(middle(vec![2.0, 1.0]), Some(1.0));
        assert_eq!(middle(vec![]), None);
    }
}
