//! Integration tests of expressions of interest on the real stack.
