//! Resources (static URIs and URI templates answered by a tool) and prompts (messages with
//! placeholders, resources embedded).

use serde_saphyr::Spanned;

use super::names::check_name;
use super::types::{Catalog, Prompt, PromptMessage, Resource};
use crate::backend::kind::list;
use crate::mapping::load::FileProblems;
use crate::mapping::model::{PromptDef, ResourceDef};
use crate::uri::UriTemplate;

pub(super) fn compile_resource(
    name: &str,
    def: &Spanned<ResourceDef>,
    cat: &Catalog,
    p: &mut FileProblems<'_>,
) -> Option<Resource> {
    let here = format!("resources.{name}");
    let d = &def.value;
    check_name(name, &def.referenced, &here, p);
    let template = match UriTemplate::parse(&d.uri.value) {
        Ok(t) => t,
        Err(e) => {
            p.at(&d.uri.referenced, format!("{here}.uri"), e);
            return None;
        }
    };
    let Some(tool) = cat.tools.get(&d.tool.value) else {
        let known: Vec<&str> = cat.tools.keys().map(|s| s.as_str()).collect();
        p.at(
            &d.tool.referenced,
            format!("{here}.tool"),
            format!(
                "unknown tool `{}`; defined tools: {}",
                d.tool.value,
                list(&known)
            ),
        );
        return None;
    };
    for var in template.variables() {
        if tool
            .params
            .iter()
            .any(|x| x.name == var && x.list.is_some())
        {
            p.at(
                &d.uri.referenced,
                format!("{here}.uri"),
                format!("URI variable `{{{var}}}` names an array parameter; a URI variable carries one value"),
            );
        } else if !tool.params.iter().any(|x| x.name == var) {
            p.at(
                &d.uri.referenced,
                format!("{here}.uri"),
                format!(
                    "URI variable `{{{var}}}` is not a parameter of tool `{}`",
                    tool.name
                ),
            );
        }
    }
    let watch = match &d.watch {
        Some(w) if w.every.0 < std::time::Duration::from_secs(1) => {
            p.at(
                &d.uri.referenced,
                format!("{here}.watch.every"),
                "a resource is looked at every 1s at most often: set `every` to 1s or more",
            );
            None
        }
        Some(w) => Some(w.every.0),
        None => tool.plan.default_watch(),
    };
    let is_template = !template.variables().is_empty();
    Some(Resource {
        name: name.to_string(),
        uri: d.uri.value.clone(),
        template: is_template.then_some(template),
        title: d.title.clone(),
        description: d
            .description
            .clone()
            .or_else(|| Some(tool.description.clone())),
        mime_type: d
            .mime_type
            .clone()
            .unwrap_or_else(|| "application/json".into()),
        tool: tool.name.clone(),
        arguments: d.arguments.clone(),
        allow: d.allow.clone(),
        watch,
    })
}

pub(super) fn compile_prompt(
    name: &str,
    def: &Spanned<PromptDef>,
    resources: &[Resource],
    p: &mut FileProblems<'_>,
) -> Prompt {
    let here = format!("prompts.{name}");
    let d = &def.value;
    check_name(name, &def.referenced, &here, p);
    let args: Vec<(String, Option<String>, bool)> = d
        .arguments
        .iter()
        .map(|(n, a)| (n.clone(), a.description.clone(), a.required))
        .collect();
    if d.messages.value.is_empty() {
        p.at(
            &d.messages.referenced,
            format!("{here}.messages"),
            "a prompt needs at least one message",
        );
    }
    let mut messages = Vec::new();
    for (i, m) in d.messages.value.iter().enumerate() {
        let mpath = format!("{here}.messages[{i}]");
        for var in crate::uri::placeholders(&m.text.value) {
            if !args.iter().any(|a| a.0 == var) {
                p.at(
                    &m.text.referenced,
                    format!("{mpath}.text"),
                    format!("placeholder `{{{var}}}` is not an argument of this prompt"),
                );
            }
        }
        if let Some(r) = &m.resource {
            for var in crate::uri::placeholders(&r.value) {
                if !args.iter().any(|a| a.0 == var) {
                    p.at(
                        &r.referenced,
                        format!("{mpath}.resource"),
                        format!("placeholder `{{{var}}}` is not an argument of this prompt"),
                    );
                }
            }
            let known = resources.iter().any(|res| res.uri == r.value);
            if !known {
                p.at(
                    &r.referenced,
                    format!("{mpath}.resource"),
                    format!(
                        "`{}` is not the URI of a resource in these mappings",
                        r.value
                    ),
                );
            }
        }
        messages.push(PromptMessage {
            role: m.role,
            text: m.text.value.clone(),
            resource: m.resource.as_ref().map(|r| r.value.clone()),
        });
    }
    Prompt {
        name: name.to_string(),
        title: d.title.clone(),
        description: d.description.clone(),
        arguments: args,
        messages,
        allow: d.allow.clone(),
    }
}
