//! One generation of the served mappings: the pipeline and what is rendered from its catalogue
//! once (the lists, the `initialize` instructions). Below the live catalogue that swaps
//! generations and the handler and watches that read one.

use super::render::{Lists, render_instructions, render_lists};
use crate::pipeline::Pipeline;

/// One generation of the served mappings.
pub struct State {
    pub pipeline: Pipeline,
    pub(crate) lists: Lists,
    /// The `instructions` of `initialize`.
    pub(crate) instructions: String,
}

impl State {
    pub fn new(pipeline: Pipeline) -> State {
        let lists = render_lists(pipeline.catalog());
        let instructions = render_instructions(pipeline.catalog());
        State {
            pipeline,
            lists,
            instructions,
        }
    }
}
