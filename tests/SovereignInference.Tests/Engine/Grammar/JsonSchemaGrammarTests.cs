using System.Text.Json;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;

namespace SovereignInference.Tests.Engine.Grammar;

/// <summary>
/// The JSON-Schema-to-GBNF converter. Each grammar is checked three ways: its text (the converter's output,
/// reviewed by hand), the project's GBNF validator, and llama.cpp itself: its grammar parser must load the
/// grammar and sampling under it must give JSON that JsonSchema.Net finds valid against the schema.
/// </summary>
public sealed class JsonSchemaGrammarTests(TinyGrammarEngine llama) : IClassFixture<TinyGrammarEngine>
{
    [Fact]
    public async Task Object_with_required_and_optional_properties()
    {
        const string Schema = """
            {"type":"object","properties":{"name":{"type":"string","maxLength":5},"age":{"type":"integer"}},
             "required":["name"],"additionalProperties":false}
            """;
        var spec = JsonSchemaGrammar.FromSchema(Schema);

        Assert.Equal("root", spec.Root);
        Assert.Equal(
            """
            root ::= "{" space root-name-kv ("," space root-age-kv)? "}" space
            char ::= [^"\\\x7F\x00-\x1F] | [\\] (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
            integer ::= "-"? integral-part space
            integral-part ::= [0] | [1-9] [0-9]{0,15}
            root-age-kv ::= "\"age\"" space ":" space integer
            root-name ::= "\"" char{0,5} "\"" space
            root-name-kv ::= "\"name\"" space ":" space root-name
            space ::= | " "

            """.ReplaceLineEndings("\n"),
            spec.Gbnf);
        GbnfValidator.Validate(spec);
        await llama.AssertSamplesValidAsync(Schema, spec);
    }

    [Fact]
    public async Task Optional_properties_only_allow_any_ordered_subset()
    {
        const string Schema = """{"properties":{"a":{"type":"null"},"b":{"type":"boolean"}}}""";
        var spec = JsonSchemaGrammar.FromSchema(Schema);

        Assert.StartsWith(
            """root ::= "{" space (root-a-kv ("," space root-b-kv)? | root-b-kv)? "}" space""" + "\n",
            spec.Gbnf,
            StringComparison.Ordinal);
        GbnfValidator.Validate(spec);
        var outputs = await llama.AssertSamplesValidAsync(Schema, spec, favour: "\"");
        Assert.Contains(outputs, text => JsonDocument.Parse(text).RootElement.EnumerateObject().Any());
    }

    [Fact]
    public async Task String_enum()
    {
        const string Schema = """{"enum":["a","b\"c"]}""";
        var spec = JsonSchemaGrammar.FromSchema(Schema);

        Assert.Equal("root ::= (\"\\\"a\\\"\" | \"\\\"b\\\\\\\"c\\\"\") space\nspace ::= | \" \"\n", spec.Gbnf);
        GbnfValidator.Validate(spec);
        await llama.AssertSamplesValidAsync(Schema, spec);
    }

    [Fact]
    public async Task Array_with_item_bounds()
    {
        const string Schema = """{"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":3}""";
        var spec = JsonSchemaGrammar.FromSchema(Schema);

        Assert.Equal(
            """
            root ::= "[" space boolean ("," space boolean){0,2} "]" space
            boolean ::= ("true" | "false") space
            space ::= | " "

            """.ReplaceLineEndings("\n"),
            spec.Gbnf);
        GbnfValidator.Validate(spec);
        await llama.AssertSamplesValidAsync(Schema, spec);
    }

    [Fact]
    public async Task AnyOf_with_a_ref_to_defs()
    {
        const string Schema = """
            {"$defs":{"pt":{"type":"object","properties":{"x":{"type":"number"}},"required":["x"]}},
             "anyOf":[{"$ref":"#/$defs/pt"},{"type":"null"}]}
            """;
        var spec = JsonSchemaGrammar.FromSchema(Schema);

        Assert.Equal(
            """
            root ::= ref-pt | null
            decimal-part ::= [0-9]{1,16}
            exponent-part ::= [0-9]{1,2}
            integral-part ::= [0] | [1-9] [0-9]{0,15}
            null ::= "null" space
            number ::= "-"? integral-part ("." decimal-part)? ([eE] [-+]? exponent-part)? space
            ref-pt ::= "{" space ref-pt-x-kv "}" space
            ref-pt-x-kv ::= "\"x\"" space ":" space number
            space ::= | " "

            """.ReplaceLineEndings("\n"),
            spec.Gbnf);
        GbnfValidator.Validate(spec);
        var plain = await llama.AssertSamplesValidAsync(Schema, spec);
        var steered = await llama.AssertSamplesValidAsync(Schema, spec, favour: "{");
        var kinds = plain.Concat(steered).Select(text => JsonDocument.Parse(text).RootElement.ValueKind).ToHashSet();
        Assert.Equal([JsonValueKind.Object, JsonValueKind.Null], kinds.Order());
    }

    [Fact]
    public async Task Recursive_definitions_make_a_valid_grammar()
    {
        const string Schema = """
            {"definitions":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/definitions/node"},{"type":"null"}]}},
             "required":["v","next"],"additionalProperties":false}},"$ref":"#/definitions/node"}
            """;
        var spec = JsonSchemaGrammar.FromSchema(Schema);

        Assert.Equal(
            """
            root ::= ref-node
            integer ::= "-"? integral-part space
            integral-part ::= [0] | [1-9] [0-9]{0,15}
            null ::= "null" space
            ref-node ::= "{" space ref-node-v-kv "," space ref-node-next-kv "}" space
            ref-node-next ::= ref-node | null
            ref-node-next-kv ::= "\"next\"" space ":" space ref-node-next
            ref-node-v-kv ::= "\"v\"" space ":" space integer
            space ::= | " "

            """.ReplaceLineEndings("\n"),
            spec.Gbnf);
        GbnfValidator.Validate(spec);
        var outputs = await llama.AssertSamplesValidAsync(Schema, spec, TinyGrammarEngine.Closing);
        Assert.Contains(outputs, text => JsonDocument.Parse(text).RootElement.GetProperty("next").ValueKind == JsonValueKind.Object);
    }

    [Fact]
    public async Task Json_object_is_any_object()
    {
        var spec = JsonSchemaGrammar.JsonObject();

        Assert.StartsWith("root ::= object\n", spec.Gbnf, StringComparison.Ordinal);
        Assert.Contains("value ::= object | array | string | number | boolean | null\n", spec.Gbnf, StringComparison.Ordinal);
        GbnfValidator.Validate(spec);
        await llama.AssertSamplesValidAsync("""{"type":"object"}""", spec, TinyGrammarEngine.Closing, maxTokens: 480);
    }

    [Fact]
    public async Task Numbers_have_at_most_two_exponent_digits_so_every_one_is_a_finite_double()
    {
        const string Schema = """{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":6}""";
        var spec = JsonSchemaGrammar.FromSchema(Schema);

        Assert.Contains("number ::= \"-\"? integral-part (\".\" decimal-part)? ([eE] [-+]? exponent-part)? space\n", spec.Gbnf, StringComparison.Ordinal);
        Assert.Contains("exponent-part ::= [0-9]{1,2}\n", spec.Gbnf, StringComparison.Ordinal);
        GbnfValidator.Validate(spec);
        var number = JsonSchemaGrammar.FromSchema("""{"type":"number"}""");
        // 16 exponent digits: JavaScript and .NET read it as Infinity.
        Assert.False(llama.Accepts(number, "87E3272072953428"));
        Assert.False(llama.Accepts(number, "1e308"));
        Assert.False(llama.Accepts(number, "01"));
        Assert.True(llama.Accepts(number, "87E32"));
        Assert.True(llama.Accepts(number, "9999999999999999.9999999999999999e99"));
        Assert.True(llama.Accepts(number, "-12.5e-07")); // JSON allows leading zeros in an exponent

        var outputs = await llama.AssertSamplesValidAsync(Schema, spec);
        Assert.All(outputs, text => Assert.All(JsonDocument.Parse(text).RootElement.EnumerateArray(), n => Assert.Equal(JsonValueKind.Number, n.ValueKind)));
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^a+$"}""", "'pattern'")]
    [InlineData("""{"type":"integer","minimum":3}""", "'minimum'")]
    [InlineData("""{"allOf":[{"type":"string"}]}""", "'allOf'")]
    [InlineData("""{"type":"object","additionalProperties":{"type":"string"}}""", "additionalProperties")]
    [InlineData("""{"$ref":"https://example.com/schema"}""", "$ref")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "points to no definition")]
    [InlineData("""{"type":"array","minItems":3,"maxItems":2}""", "maxItems")]
    [InlineData("""{"type":"string","maxLength":100000}""", "maxLength")]
    [InlineData("""{"type":"object","properties":{"a":{}},"required":["b"]}""", "'b'")]
    [InlineData("""{"type":"strin"}""", "'strin'")]
    public void Unsupported_schemas_are_rejected_naming_the_keyword(string schema, string named)
    {
        var error = Assert.Throws<EngineException>(() => JsonSchemaGrammar.FromSchema(schema));

        Assert.Equal(EngineErrorCode.InvalidArgument, error.Code);
        Assert.Equal("response_format", error.Param);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_schema_json_is_rejected()
    {
        var error = Assert.Throws<EngineException>(() => JsonSchemaGrammar.FromSchema("{\"type\":"));

        Assert.Equal("response_format", error.Param);
    }
}
