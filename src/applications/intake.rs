//! Taking in an expression of interest (to be written): record, acknowledgement, card.
