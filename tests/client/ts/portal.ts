// A portal's TypeScript, typed only by what openapi-typescript generates from
// openapi/openapi.json (into generated/touchbase.d.ts; tests/client/test_typescript_client.py).
// It must pass `tsc --strict`; each @ts-expect-error line must fail to compile, or tsc
// reports the directive unused: the types are as strict as the document promises.
import type { components, operations, paths } from "./generated/touchbase";

type Schemas = components["schemas"];
type Touch = Schemas["Touch"];
type Problem = Schemas["Problem"];
type TouchQuery = NonNullable<operations["list_touches"]["parameters"]["query"]>;
type TouchList = operations["list_touches"]["responses"][200]["content"]["application/json"];
type NewContact = operations["create_contact"]["requestBody"]["content"]["application/json"];
type Created<K extends keyof operations> = operations[K]["responses"] extends {
  201: { content: { "application/json": infer Body } };
}
  ? Body
  : never;

export class TouchbaseError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
  }
}

async function call<T>(base: string, token: string, path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(new URL(path, base), {
    ...init,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
  });
  if (!response.ok) {
    throw new TouchbaseError((await response.json()) as Problem);
  }
  return (await response.json()) as T;
}

export async function drafts(base: string, token: string, interviewId: number): Promise<TouchList> {
  const query: TouchQuery = { interview_id: interviewId, status: "draft" };
  const url = new URL("/v1/touches", base);
  for (const [name, value] of Object.entries(query)) {
    url.searchParams.set(name, String(value));
  }
  return call<TouchList>(base, token, url.pathname + url.search);
}

export async function addContact(base: string, token: string): Promise<Created<"create_contact">> {
  const body: NewContact = { name: "Dana Jones", email: "dana@acme.example", company: "Acme Corp" };
  return call(base, token, "/v1/contacts", { method: "POST", body: JSON.stringify(body) });
}

/** A nullable field is `T | null`: strict mode makes the caller say what null means. */
export function dueAt(touch: Touch): string {
  return touch.scheduled_for ?? "not scheduled";
}

/** A nullable nested object (allOf + nullable in the document) is `Touch | null`. */
export function proposedTouchId(change: Schemas["ContactResponseChange"]): number | null {
  return change.proposed_touch === null ? null : change.proposed_touch.id;
}

export function refusedBy(error: TouchbaseError): string {
  const { rule, next_allowed_at: next, existing_id: existing } = error.problem;
  return `${rule ?? "-"} ${next ?? "-"} ${existing ?? "-"}`;
}

export function onlyThankYous(touches: Touch[]): Touch[] {
  return touches.filter((touch) => touch.step === "thank_you" && touch.status !== "cancelled");
}

// @ts-expect-error a nullable nested object used unchecked does not compile
export const unchecked = (change: Schemas["ContactResponseChange"]): number => change.proposed_touch.id;

// @ts-expect-error a step is one of the Step enum's values
export const pester: Schemas["Step"] = "pester";

// @ts-expect-error every field an answer always has is required
export const partial: Touch = { id: 1 };

// @ts-expect-error Twilio's callbacks are not in the portal's document
export type InboundSms = paths["/v1/webhooks/twilio/sms/inbound"];
