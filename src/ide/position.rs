//! Byte offsets ↔ editor positions. Editors (LSP, CodeMirror, JavaScript strings) count columns
//! in UTF-16 code units; the compiler counts bytes. This is the one place that converts.

use crate::diagnostic::Span;

/// A line (0-based) and a column in UTF-16 code units (0-based), as LSP has them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

/// A range of positions, end exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

/// The line starts of a text, to convert both ways.
#[derive(Clone, Debug)]
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { starts }
    }

    /// The position of a byte offset; one inside a character means that character, one past
    /// the end the end.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = crate::diagnostic::floor_boundary(text, offset);
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts[line];
        let character = text[start..offset].encode_utf16().count();
        Position {
            line: line as u32,
            character: character as u32,
        }
    }

    pub fn range(&self, text: &str, span: Span) -> Range {
        Range {
            start: self.position(text, span.start),
            end: self.position(text, span.end),
        }
    }

    /// The byte offset of a position: a line past the end is the end of the text, a column
    /// past the end of its line (or inside a surrogate pair) the end of that line (or that
    /// character).
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return text.len();
        };
        let line_end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(text.len(), |&next| next - 1);
        let mut units = 0;
        for (i, c) in text[start..line_end].char_indices() {
            units += c.len_utf16() as u32;
            if units > position.character {
                return start + i;
            }
        }
        line_end
    }

    pub fn span(&self, text: &str, range: Range) -> Span {
        let start = self.offset(text, range.start);
        Span::new(start, self.offset(text, range.end).max(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_both_ways() {
        let text = "a = \"é😀x\"\nb\r\nc";
        let lines = Lines::new(text);
        let x = text.find('x').unwrap();
        // `é` is one unit, `😀` two.
        let p = lines.position(text, x);
        assert_eq!(
            p,
            Position {
                line: 0,
                character: 8
            }
        );
        assert_eq!(lines.offset(text, p), x);
        // Inside the surrogate pair: the emoji itself.
        let emoji = text.find('😀').unwrap();
        assert_eq!(
            lines.offset(
                text,
                Position {
                    line: 0,
                    character: 7
                }
            ),
            emoji
        );
        // Past the end of a line: its end (before `\n`); past the last line: the text's end.
        assert_eq!(
            lines.offset(
                text,
                Position {
                    line: 0,
                    character: 99
                }
            ),
            text.find('\n').unwrap()
        );
        assert_eq!(
            lines.offset(
                text,
                Position {
                    line: 9,
                    character: 0
                }
            ),
            text.len()
        );
        assert_eq!(
            lines.position(text, text.len()),
            Position {
                line: 2,
                character: 1
            }
        );
    }
}
