// Signs up a user in an in-memory Better Auth server with the JWT plugin and
// prints what a real app would hand to the Task API: the user's id, an EdDSA
// JWT and the JWKS exactly as Better Auth serves them, plus an HS256 token
// made with jose and BETTER_AUTH_SECRET as HS256 Better Auth setups do.
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { jwt } from "better-auth/plugins";
import { SignJWT } from "jose";

const baseURL = "http://localhost:3000";
const secret = process.env.BETTER_AUTH_SECRET;
const auth = betterAuth({
  baseURL,
  secret,
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
  emailAndPassword: { enabled: true },
  plugins: [jwt()],
  telemetry: { enabled: false },
});

const call = (path, init = {}) =>
  auth.handler(new Request(`${baseURL}/api/auth${path}`, {
    ...init,
    headers: { origin: baseURL, "content-type": "application/json", ...(init.headers ?? {}) },
  }));

const email = `interop-${Date.now()}@example.com`;
const signUp = await call("/sign-up/email", {
  method: "POST",
  body: JSON.stringify({ email, password: "correct horse battery staple", name: "Interop User" }),
});
if (!signUp.ok) throw new Error(`sign-up: ${signUp.status} ${await signUp.text()}`);
const { user } = await signUp.json();
const cookie = signUp.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");

const tokenResponse = await call("/token", { headers: { cookie } });
if (!tokenResponse.ok) throw new Error(`token: ${tokenResponse.status} ${await tokenResponse.text()}`);
const { token } = await tokenResponse.json();
const jwks = await (await call("/jwks")).json();

const hs256 = await new SignJWT({ email: user.email, name: user.name })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(user.id)
  .setIssuedAt()
  .setExpirationTime("15m")
  .sign(new TextEncoder().encode(secret));

console.log(JSON.stringify({ userId: user.id, email: user.email, token, jwks, hs256 }));
