//! The calendar in the database (to be written: items with revisions, reminder firings).
