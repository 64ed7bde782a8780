//! Integration tests of the calendar on the real stack.
