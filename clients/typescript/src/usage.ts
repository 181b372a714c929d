// A frontend's use of the generated types: if the spec loses a field, an enum or an operation,
// this file stops compiling under `tsc --strict`.
import createClient from "openapi-fetch";
import type { components, operations, paths } from "./schema";

type Decision = components["schemas"]["DecisionRead"];
type BasisClass = Decision["basis_class"];
type Problem = components["schemas"]["Problem"];

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:8000" });

export function describe(decision: Decision): string {
  const cls: BasisClass = decision.basis_class;
  const reason: "evidence_cited" | "data_claim_without_evidence" | `declared_${string}` =
    decision.classification_reason;
  const outcome = decision.outcome?.result ?? "not reviewed";
  const version: number | null = decision.strategy_version;
  return `${decision.title} (${cls}, ${reason}, ${outcome}, v${version ?? "-"})`;
}

export function explain(problem: Problem): string {
  const fields = (problem.errors ?? []).map((e) => `${e.loc.join(".")}: ${e.msg}`);
  return `${problem.status} ${problem.code}: ${problem.detail ?? problem.title} ${fields.join("; ")}`;
}

export async function recordDecision(key: string): Promise<Decision> {
  const body: operations["createDecision"]["requestBody"]["content"]["application/json"] = {
    title: "Move 20% of the display budget to paid search",
    rationale: "Paid search converts better.",
    basis: "data",
    evidence: [{ source: "ga4", reference: "https://analytics.example.com/r/1" }],
    owner: "anna.petrova",
    category: "budget",
    decided_at: "2026-03-01T10:00:00Z",
  };
  const { data, error } = await client.POST("/v1/decisions", {
    body,
    headers: { Authorization: `Bearer ${key}`, "Idempotency-Key": "import-42" },
  });
  if (error) throw new Error(explain(error));
  return data;
}

type DecisionPage = { items: Decision[]; next_cursor: string | null };

async function fetchPage(key: string, cursor: string | undefined): Promise<DecisionPage> {
  const { data, error } = await client.GET("/v1/decisions", {
    params: { query: { basis_class: "data", limit: 100, cursor } },
    headers: { Authorization: `Bearer ${key}` },
  });
  if (error) throw new Error(explain(error));
  return data;
}

export async function pageThrough(key: string): Promise<Decision[]> {
  const all: Decision[] = [];
  let page = await fetchPage(key, undefined);
  all.push(...page.items);
  while (page.next_cursor !== null) {
    page = await fetchPage(key, page.next_cursor);
    all.push(...page.items);
  }
  return all;
}
