#!/usr/bin/env python3
"""Writes tests/chat/conversations.json: the conversations on which render_chat is compared with the
real Gemma 4 chat template (tests/chat/render_reference.mjs renders them, chat_check.cpp compares).

  python3 make_conversations.py --template build/chat-reference/<commit>/google-gemma-4-31B-it.jinja

(render_reference.mjs leaves that extracted template in its --cache directory.) For the documented
deviations, "expected" is pocket's intended output: the template rendered with Python Jinja2 (the
engine HF transformers uses), with the named patch applied where Google's later canonical template
changed the behaviour, or a stated edit. Needs jinja2 (pip/apt python3-jinja2); only to regenerate.
"""
import argparse
import copy
import json
import os

from jinja2.sandbox import ImmutableSandboxedEnvironment

PARSER = argparse.ArgumentParser()
PARSER.add_argument("--template", required=True)
PARSER.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "conversations.json"))
ARGS = PARSER.parse_args()

EMPTY = "        {%- if not enable_thinking | default(false) -%}\n            {{- '<|channel>thought\\n<channel|>' -}}\n        {%- endif -%}\n"
def env():
    e = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    def raise_exception(m): raise Exception(m)
    e.globals["raise_exception"] = raise_exception
    return e
def template_text(variant, patches=()):
    t = open(ARGS.template).read()
    if variant == "e2b":
        assert t.count(EMPTY) == 1; t = t.replace(EMPTY, "")
    for old, new in patches:
        assert t.count(old) >= 1, old
        t = t.replace(old, new)
    return t
def preprocess(msgs):
    out = copy.deepcopy(msgs)
    for m in out:
        if m.get("role") == "developer": m["role"] = "system"
        if "tool_calls" in m:
            if m.get("content") is None: m["content"] = ""
            for tc in m["tool_calls"]:
                if isinstance(tc["function"].get("arguments"), str): tc["function"]["arguments"] = json.loads(tc["function"]["arguments"])
    return out
def render(c, patches=()):
    t = env().from_string(template_text(c.get("variant", "31b"), patches))
    kw = dict(bos_token="" if c.get("add_bos") is False else "<bos>", messages=preprocess(c["messages"]),
              add_generation_prompt=c.get("add_generation_prompt", True), enable_thinking=c.get("enable_thinking", False))
    if "tools" in c: kw["tools"] = c["tools"]
    return t.render(**kw)

cases = []
def case(name, messages, tools=None, variant="31b", note=None, **kw):
    c = {"name": name}
    if note: c["note"] = note
    if variant != "31b": c["variant"] = variant
    c.update(kw)
    c["messages"] = messages
    if tools is not None: c["tools"] = tools
    cases.append(c)

U = lambda t: {"role": "user", "content": t}
A = lambda t: {"role": "assistant", "content": t}
S = lambda t: {"role": "system", "content": t}
def call(name, args, id=None):
    c = {"type": "function", "function": {"name": name, "arguments": args}}
    if id is not None: c["id"] = id
    return c
def tool_msg(content, id=None, name=None):
    m = {"role": "tool", "content": content}
    if id is not None: m["tool_call_id"] = id
    if name is not None: m["name"] = name
    return m
def fn(name, description=None, parameters=None, **extra):
    f = {"name": name}
    if description is not None: f["description"] = description
    if parameters is not None: f["parameters"] = parameters
    f.update(extra)
    return {"type": "function", "function": f}

weather = fn("get_weather", "Get the current weather for a city.", {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City name, e.g. Paris"},
        "unit": {"type": "string", "description": "Temperature unit", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["location"],
})
time_fn = fn("get_time", "Current local time.", {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})

# --- turns, system, thinking -------------------------------------------------------------------
case("single_user", [U("Hello")])
case("single_user_e2b", [U("Hello")], variant="e2b")
case("system_prompt", [S("  You are a helpful assistant.\n"), U("Hi there")])
case("system_prompt_e2b", [S("Be brief."), U("Hi")], variant="e2b")
case("developer_first", [{"role": "developer", "content": "Answer in French."}, U("Hello")])
case("thinking_on_no_system", [U("What is 17*23?")], enable_thinking=True)
case("thinking_on_with_system", [S("You are a math tutor."), U("What is 2+2?")], enable_thinking=True)
case("thinking_on_e2b", [S("Tutor."), U("2+2?")], enable_thinking=True, variant="e2b")
case("thinking_off_e2b_multi", [U("Hi"), A("Hello!"), U("How are you?")], variant="e2b")
case("no_generation_prompt", [U("Hi"), A("Hello!")], add_generation_prompt=False)
case("no_bos", [U("Hi")], add_bos=False)
case("system_only", [S("Only a system prompt.")])

# --- history with thoughts, consecutive assistant messages, whitespace --------------------------
case("history_strips_thoughts", [
    U("What is 2+2?"),
    A("<|channel>thought\nSimple arithmetic.<channel|>The answer is 4."),
    U("And 3+3?"),
    A("  <|channel>thought\nagain<channel|>  It is 6. <|channel>thought\nsecond<channel|>Done.  "),
    U("Thanks"),
])
case("history_thought_edge_cases", [
    U("a"), A("Start<|channel>never closed"),
    U("b"), A("stray close<channel|> kept"),
    U("c"), A("x<|channel>one<|channel>two<channel|>y"),
    U("d"), A("<|channel>thought\nonly a thought<channel|>"),
    U("e"),
], note="unterminated thought is cut; a stray <channel|> is removed; nested opens are cut to the first")
case("history_thoughts_in_parts", [
    U("q"),
    {"role": "assistant", "content": [{"type": "text", "text": "<|channel>thought\nx<channel|> A "}, {"type": "text", "text": " B "}]},
    U("r"),
])
case("consecutive_assistant", [U("Tell me two things."), A("First thing."), A("Second thing."), U("More?")],
     note="the template continues the model turn without reopening it, after closing it: 'First thing.<turn|>\\nSecond thing.<turn|>\\n'")
case("whitespace_trimming", [
    S("\n\t System text \n"),
    U("  \n  padded question \t\n"),
    A("\n  padded answer  \n"),
    {"role": "user", "content": [{"type": "text", "text": "  part one  "}, {"type": "text", "text": "\npart two\n"}]},
])
case("multi_turn_31b", [S("sys"), U("one"), A("uno"), U("two"), A("dos"), U("three")])
case("system_mid_conversation", [U("Hi"), A("Hello"), S("  New rule: be terse.  "), {"role": "developer", "content": "Dev note."}, U("Go")],
     note="a later system message is its own turn; developer is mapped to system (as llama.cpp does)")

# --- media -----------------------------------------------------------------------------------
case("image_then_text", [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}])
case("image_then_text_e2b", [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}], variant="e2b")
case("media_mixed", [{"role": "user", "content": [
    {"type": "text", "text": " Compare these: "}, {"type": "image"}, {"type": "image"},
    {"type": "text", "text": " and listen "}, {"type": "audio"}, {"type": "text", "text": "then watch"}, {"type": "video"}]}],
    variant="e2b")
case("media_last_part", [U("first"), A("ok"), {"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image"}]}],
     enable_thinking=True)

# --- tool declarations -------------------------------------------------------------------------
case("tools_simple", [U("Weather in Paris?")], tools=[weather])
case("tools_with_system_and_thinking", [S("You can call tools."), U("Weather and time in Oslo?")], tools=[weather, time_fn], enable_thinking=True)
nested = fn("create_event", "Create a calendar event.", {
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "Event title"},
        "duration_minutes": {"type": "integer", "description": "Length"},
        "all_day": {"type": "boolean"},
        "priority": {"type": "number", "nullable": True},
        "visibility": {"type": "string", "enum": ["public", "private"], "nullable": True},
        "levels": {"type": "integer", "enum": [1, 2, 3], "description": "enum on a non-string is not declared"},
        "attendees": {
            "type": "array", "description": "People to invite",
            "items": {"type": "object", "properties": {
                "email": {"type": "string"}, "name": {"type": "string", "description": "Display name"},
                "role": {"type": "string", "enum": ["required", "optional"]}},
                "required": ["email"]},
        },
        "tags": {"type": "array", "items": {"type": "string", "description": "a tag", "enum": ["a", "b"], "minLength": 1}},
        "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        "location": {
            "type": "object", "description": "Where",
            "properties": {
                "address": {"type": "string"},
                "geo": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}, "required": ["lat", "lon"]},
            },
            "required": ["address"],
        },
        "metadata": {"type": "object", "description": "Free-form", "additionalProperties": {"type": "string"}},
        "empty_obj": {"type": "object", "properties": {}},
    },
    "required": ["title", "attendees"],
})
case("tools_nested_schema", [U("Schedule it.")], tools=[nested])
case("tools_quirks_missing_fields", [U("go")], tools=[
    fn("no_description", parameters={"type": "object", "properties": {"x": {"type": "string"}}}),
    fn("no_parameters", "Takes nothing."),
    fn("empty_parameters", "Empty schema.", {}),
    fn("type_only", "Only a type.", {"type": "object"}),
    fn("untyped_property", "Property without type.", {"type": "object", "properties": {"p": {"description": "mystery"}}}),
    fn("union_type", "Type list.", {"type": "object", "properties": {"u": {"type": ["string", "null"], "description": "maybe"}}}),
], note="description:<|\"|><|\"|> for a missing description; type:<|\"|><|\"|> for a missing type; a type list prints as Python's repr")
case("tools_quirks_unclosed", [U("go")], tools=[
    fn("params_without_type", "No type at the top.", {"properties": {"a": {"type": "string"}}, "required": ["a"]}),
    fn("string_response", "Response is not an object.", {"type": "object", "properties": {"a": {"type": "string"}}},
       response={"type": "string", "description": "the text"}),
], note="the template closes parameters:{ only with its type, and response:{ only for an OBJECT type (reproduced)")
case("tools_response_schema", [U("go")], tools=[
    fn("lookup", "Look something up.", {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
       response={"type": "object", "description": "The result", "properties": {"hits": {"type": "integer"}}}),
    fn("ping", "Ping.", {"type": "object", "properties": {}}, response={"type": "object"}),
])

# --- tool calls and results --------------------------------------------------------------------
case("tool_call_argument_types", [U("do it"), {"role": "assistant", "tool_calls": [call("f", {
    "s": "text with \"quotes\", commas: and {braces}\nnew line", "i": 42, "neg": -7, "f": 2.5, "small": 0.125,
    "t": True, "b": False, "arr": [1, "two", [3, 4], {"k": "v"}], "obj": {"z": 1, "a": {"deep": [True]}},
    "empty_obj": {}, "empty_arr": [], "unicode": "héllo ✓ 日本"}, id="c1")]},
    tool_msg("ok", id="c1")])
case("tool_call_string_arguments", [U("weather?"), {"role": "assistant", "content": None,
    "tool_calls": [call("get_weather", "{\"location\": \"Paris\", \"unit\": \"celsius\"}", id="x")]},
    tool_msg("18 degrees", id="x")], tools=[weather],
    note="OpenAI sends arguments as JSON text; llama.cpp parses it before the template")
case("tool_result_string_by_id", [U("Weather and time in Oslo?"),
    {"role": "assistant", "tool_calls": [call("get_weather", {"location": "Oslo"}, id="call_w"), call("get_time", {"city": "Oslo"}, id="call_t")]},
    tool_msg("14:05", id="call_t"), tool_msg("-3 C, snow", id="call_w")], tools=[weather, time_fn],
    note="results in another order than the calls: matched by tool_call_id")
case("tool_result_json_object", [U("q"), {"role": "assistant", "tool_calls": [call("get_weather", {"location": "Rome"}, id="a")]},
    tool_msg({"temperature": 21, "unit": "C", "conditions": ["sunny", "dry"], "wind": {"speed": 3.5, "dir": "N"}, "ok": True}, id="a")])
case("tool_result_json_text", [U("q"), {"role": "assistant", "tool_calls": [call("get_weather", {"location": "Rome"}, id="a")]},
    tool_msg("{\"temperature\": 21}", id="a")], note="JSON text stays text: value:<|\"|>…<|\"|>")
case("tool_result_parts_and_number", [U("q"), {"role": "assistant", "tool_calls": [call("a", {}, id="1"), call("b", {}, id="2")]},
    {"role": "tool", "tool_call_id": "1", "content": [{"type": "text", "text": "part1 "}, {"type": "text", "text": " part2"}]},
    tool_msg(42, id="2")])
case("tool_result_empty_string", [U("q"), {"role": "assistant", "tool_calls": [call("a", {}, id="1")]}, tool_msg("", id="1")])
case("tool_result_name_fallback", [U("q"), {"role": "assistant", "tool_calls": [call("a", {}, id="1"), call("b", {}, id="2")]},
    tool_msg("r1", id="nomatch", name="named_tool"), tool_msg("r2", id="nomatch2")],
    note="no id matches: the message's name, else 'unknown'")
case("tool_call_single_no_ids", [U("q"), {"role": "assistant", "tool_calls": [call("get_time", {"city": "Lima"})]}, tool_msg("09:00")])
case("tool_call_without_result_at_end", [U("Weather?"), {"role": "assistant", "tool_calls": [call("get_weather", {"location": "Nice"}, id="n")]}],
     tools=[weather], note="<|tool_response> is appended; no generation prompt")
case("tool_call_without_result_then_user", [U("Weather?"), {"role": "assistant", "tool_calls": [call("get_weather", {"location": "Nice"})]},
     U("Never mind.")], note="the open model turn is not closed before the user turn (reproduced)")
case("tool_results_then_user", [U("Weather?"), {"role": "assistant", "tool_calls": [call("get_weather", {"location": "Nice"}, id="n")]},
     tool_msg("sunny", id="n"), U("Thanks, and tomorrow?")], note="turn left open after the results (reproduced)")
case("tool_results_at_end", [U("Weather?"), {"role": "assistant", "tool_calls": [call("get_weather", {"location": "Nice"}, id="n")]},
     tool_msg("sunny", id="n")], tools=[weather], note="the model continues its turn: no generation prompt")
case("agent_loop_with_reasoning", [
    S("Agent."), U("Plan a trip to Oslo."),
    {"role": "assistant", "reasoning_content": "Need the weather first.", "tool_calls": [call("get_weather", {"location": "Oslo"}, id="1")]},
    tool_msg("cold", id="1"),
    {"role": "assistant", "reasoning": "Now the time.", "content": "", "tool_calls": [call("get_time", {"city": "Oslo"}, id="2")]},
    tool_msg("10:00", id="2"),
    {"role": "assistant", "reasoning_content": "not rendered: no tool calls", "content": "Pack warm clothes."},
], tools=[weather, time_fn], enable_thinking=True)
case("reasoning_before_last_user_dropped", [
    U("first"),
    {"role": "assistant", "reasoning_content": "old reasoning", "tool_calls": [call("get_time", {"city": "Lima"}, id="1")]},
    tool_msg("09:00", id="1"), A("It is 9."), U("second")], enable_thinking=True)
case("agent_loop_e2b", [U("Time in Lima?"),
    {"role": "assistant", "tool_calls": [call("get_time", {"city": "Lima"}, id="1")]}, tool_msg("09:00", id="1"),
    A("It is 09:00 in Lima."), U("Thanks")], tools=[time_fn], variant="e2b")


# --- errors pocket refuses (the template would render something) ---------------------------------
case("error_orphan_tool_message", [U("q"), tool_msg("stray result", id="1")], expect_error=True,
     note="the template silently drops a tool message that answers no call")
case("error_unknown_role", [U("q"), {"role": "critic", "content": "hmm"}], expect_error=True,
     note="the template would open a '<|turn>critic' turn")
case("error_arguments_not_json", [U("q"), {"role": "assistant", "tool_calls": [call("f", "not json")]}], expect_error=True,
     note="llama.cpp refuses these arguments too")

# --- documented deviations: "expected" is pocket's output -----------------------------------------
FILTER_FIX = [("{%- macro format_parameters(properties, required) -%}", "{%- macro format_parameters(properties, required, filter_keys=false) -%}"),
              ("{%- if key not in standard_keys -%}", "{%- if not filter_keys or key not in standard_keys -%}"),
              ("{{- format_parameters(value, value['required'] | default([])) -}}", "{{- format_parameters(value, value['required'] | default([]), filter_keys=true) -}}")]
NULL_FIX = [("{%- if argument is string -%}", "{%- if argument is none -%}\n        {{- 'null' -}}\n    {%- elif argument is string -%}")]
def deviation(name, messages, why, patches=(), edit=None, tools=None, **kw):
    case(name, messages, tools=tools, deviation=why, **kw)
    c = cases[-1]
    out = render(c, patches)
    if edit: out = edit(out)
    c["expected"] = out

deviation("deviation_items_type_list", [U("go")], tools=[fn("codes", "Array items with a type list.", {"type": "object", "properties": {
    "codes": {"type": "array", "items": {"type": ["string", "null"]}}}})],
    why="llama.cpp's Jinja engine cannot run map('upper') (the template fails); expected is Jinja2's output")
deviation("deviation_reserved_property_names", [U("File a bug.")], tools=[fn("create_issue", "Create an issue.", {"type": "object", "properties": {
    "title": {"type": "string"}, "description": {"type": "string", "description": "Body text"}, "type": {"type": "string", "enum": ["bug", "feature"]},
    "required": {"type": "boolean"}, "meta": {"type": "object", "description": "schema keywords stay skipped in the fallback", "nullable": True, "extra": {"type": "string"}}},
    "required": ["title", "description", "type"]})],
    why="the template drops parameters named description/type/properties/required/nullable; Google's later canonical template declares them (filter_keys fix), as pocket does",
    patches=FILTER_FIX)
deviation("deviation_null_values", [U("q"), {"role": "assistant", "tool_calls": [call("f", {"a": None, "list": [1, None]}, id="1")]},
    tool_msg("none found", id="1")],
    why="null renders as `null` (llama.cpp's engine prints nothing, Jinja2 prints None); Google's later canonical template prints null",
    patches=NULL_FIX)
deviation("deviation_mixed_case_keys", [U("q"), {"role": "assistant", "tool_calls": [call("f", {"Zeta": 1, "alpha": 2, "_x": 3, "Beta": 4, "beta_2": 5}, id="1")]},
    tool_msg("ok", id="1")], tools=[fn("f", "Keys in mixed case.", {"type": "object", "properties": {"Zeta": {"type": "string"}, "alpha": {"type": "string"}, "fileName": {"type": "string"}, "file_path": {"type": "string"}}})],
    why="Jinja2's dictsort ignores case; llama.cpp's sorts by bytes (its FIXME); expected is Jinja2's output")
deviation("deviation_float_repr", [U("q"), {"role": "assistant", "tool_calls": [call("f", {"tiny": 1e-07, "pi": 3.14159265358979, "big": 1.5e16, "whole": 2.0, "neg": -0.0001}, id="1")]},
    tool_msg("ok", id="1")],
    why="floats print as Python's repr (shortest round trip); llama.cpp's engine prints %f-style (1e-07 -> 0.0) and 2.0 as 2; expected is Jinja2's output")
deviation("deviation_unicode_trim", [{"role": "user", "content": "\u00a0\u2003 Hello \u3000"}, A("\u2028Hi\u00a0")],
    why="trim strips Unicode spaces as Python's str.strip() does; llama.cpp's engine strips ASCII only; expected is Jinja2's output")
deviation("deviation_idless_calls_by_position", [U("Weather and time?"),
    {"role": "assistant", "tool_calls": [call("get_weather", {"location": "Oslo"}), call("get_time", {"city": "Oslo"})]},
    tool_msg("cold"), tool_msg("10:00")],
    why="results of several calls without ids are named after the call at the same position; the template names them all after the last call",
    edit=lambda s: s.replace("response:get_time{value:<|\"|>cold", "response:get_weather{value:<|\"|>cold"))
deviation("deviation_prompt_after_closed_tool_turn", [U("Weather?"),
    {"role": "assistant", "content": "Let me check.", "tool_calls": [call("get_weather", {"location": "Nice"}, id="n")]}, tool_msg("sunny", id="n")],
    why="the turn is closed (text after the results) yet the template adds no generation prompt; pocket adds it (llama.cpp appends '<|turn>model\\n' itself)",
    edit=lambda s: s + "<|turn>model\n<|channel>thought\n<channel|>")
deviation("deviation_prompt_after_closed_tool_turn_e2b", [U("Weather?"),
    {"role": "assistant", "content": "Let me check.", "tool_calls": [call("get_weather", {"location": "Nice"}, id="n")]}, tool_msg("sunny", id="n")],
    why="as above; for E2B this is exactly what llama.cpp sends", variant="e2b", edit=lambda s: s + "<|turn>model\n")
deviation("deviation_system_content_parts", [{"role": "system", "content": [{"type": "text", "text": " Part A. "}, {"type": "text", "text": "Part B. "}]}, U("q")],
    why="a first system message given as parts: the template prints the list's repr; pocket joins the text and trims it",
    edit=lambda s: s.replace("[{'type': 'text', 'text': ' Part A. '}, {'type': 'text', 'text': 'Part B. '}]", "Part A. Part B."))

with open(ARGS.out, "w") as f:
    json.dump({"cases": cases}, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"{len(cases)} conversations written to {ARGS.out}")
