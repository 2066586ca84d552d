//! The meeting aggregate: state and fold ([`aggregate`]), commands and rules ([`decide`]), and
//! the actor that runs them ([`actor`]).

pub mod actor;
pub mod aggregate;
pub mod decide;
pub mod room;
