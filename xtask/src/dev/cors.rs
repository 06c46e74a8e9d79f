//! API Gateway's CORS behaviour for `shared::cors`'s policy, in front of
//! `cargo lambda watch --disable-cors`: preflights are answered here and never
//! reach a function; other responses get the allow/expose headers when the
//! origin is allowed, and none when it is not (the browser then blocks the
//! page from reading them). CORS headers a function might write are dropped,
//! as API Gateway ignores them.

use hyper::header::{
    HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use hyper::{HeaderMap, Method};
use shared::cors;

#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<String>,
}

impl Cors {
    /// `origins` as template.yaml's `CorsAllowOrigins`: exact origins, or `*`.
    pub fn new(origins: Vec<String>) -> Self {
        Self { origins }
    }

    /// The value of `Access-Control-Allow-Origin` for this request, if its
    /// origin is allowed.
    fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(ORIGIN)?;
        if self.origins.iter().any(|o| o == "*") {
            return Some(HeaderValue::from_static("*"));
        }
        let text = origin.to_str().ok()?;
        self.origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(text))
            .then(|| origin.clone())
    }

    /// A CORS preflight: OPTIONS with an Origin and the method to come.
    pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
        method == Method::OPTIONS
            && headers.contains_key(ORIGIN)
            && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// The headers of the 204 answering a preflight: the policy for an
    /// allowed origin, nothing for another (the browser then refuses).
    pub fn preflight_headers(&self, request: &HeaderMap) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(VARY, HeaderValue::from_static("Origin"));
        let Some(origin) = self.allowed_origin(request) else {
            return headers;
        };
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(ACCESS_CONTROL_ALLOW_METHODS, joined(cors::ALLOW_METHODS));
        headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, joined(cors::ALLOW_HEADERS));
        headers.insert(ACCESS_CONTROL_MAX_AGE, cors::MAX_AGE_SECS.into());
        headers
    }

    /// Adds (or withholds) the CORS headers of an actual response.
    pub fn decorate(&self, request: &HeaderMap, response: &mut HeaderMap) {
        let theirs: Vec<HeaderName> = response
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in theirs {
            response.remove(name);
        }
        if !request.contains_key(ORIGIN) {
            return;
        }
        response.append(VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = self.allowed_origin(request) {
            response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            response.insert(ACCESS_CONTROL_EXPOSE_HEADERS, joined(cors::EXPOSE_HEADERS));
        }
    }
}

fn joined(names: &[&str]) -> HeaderValue {
    HeaderValue::from_str(&names.join(", ")).expect("header names are valid values")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, origin.parse().unwrap());
        headers.insert(ACCESS_CONTROL_REQUEST_METHOD, "PUT".parse().unwrap());
        headers
    }

    #[test]
    fn only_allowed_origins_get_the_policy() {
        let policy = Cors::new(vec!["http://localhost:3000".into()]);
        let allowed = policy.preflight_headers(&request("http://localhost:3000"));
        assert_eq!(
            allowed[ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://localhost:3000"
        );
        assert!(allowed[ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap()
            .contains("If-Match"));
        let refused = policy.preflight_headers(&request("http://evil.example"));
        assert!(!refused.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));

        let mut response = HeaderMap::new();
        response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, "*".parse().unwrap());
        policy.decorate(&request("http://evil.example"), &mut response);
        assert!(!response.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
        policy.decorate(&request("http://localhost:3000"), &mut response);
        let exposed = response[ACCESS_CONTROL_EXPOSE_HEADERS].to_str().unwrap();
        for name in ["ETag", "Link", "Location", "WWW-Authenticate"] {
            assert!(exposed.contains(name), "{exposed}");
        }
    }

    #[test]
    fn a_star_allows_any_origin() {
        let policy = Cors::new(vec!["*".into()]);
        let headers = policy.preflight_headers(&request("http://anything.example"));
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    }
}
