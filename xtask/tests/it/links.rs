//! Every relative link in every Markdown file of the repository points at a
//! file or folder that exists (and, with a `#fragment` into Markdown, at a
//! heading that exists), so moving a document cannot strand its readers.

use std::path::Path;
use std::process::Command;

/// The targets of `[text](target)` links, inline code and fenced blocks
/// excluded.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop inline code spans: `[a](b)` inside backticks is not a link.
        let text: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, part)| part)
            .collect();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].trim().to_owned());
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as
/// hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| slug(line.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_relative_link_in_the_markdown_resolves() {
    let root = xtask::project_root();
    let listed = Command::new("git")
        .current_dir(&root)
        .args(["ls-files", "*.md"])
        .output()
        .unwrap();
    let files: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(files.iter().any(|f| f == "README.md"), "{files:?}");
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let dir = Path::new(file).parent().unwrap_or(Path::new(""));
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() {
                root.join(file)
            } else {
                root.join(dir).join(path)
            };
            if !resolved.exists() {
                broken.push(format!("{file}: ({target}) points at nothing"));
                continue;
            }
            if let Some(fragment) = fragment.filter(|_| resolved.extension() == Some("md".as_ref()))
            {
                let heads = anchors(&std::fs::read_to_string(&resolved).unwrap());
                if !heads.iter().any(|h| h == fragment) {
                    broken.push(format!("{file}: ({target}) names no heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_reader_finds_links_and_skips_code() {
    let text = "See [a](docs/A.md) and [b](../b.md#part).\n`[c](nowhere)`\n```\n[d](nope)\n```\n";
    assert_eq!(link_targets(text), ["docs/A.md", "../b.md#part"]);
    assert_eq!(slug("Deploy in five commands"), "deploy-in-five-commands");
    assert_eq!(
        slug("1. Create the database (Neon)"),
        "1-create-the-database-neon"
    );
}
