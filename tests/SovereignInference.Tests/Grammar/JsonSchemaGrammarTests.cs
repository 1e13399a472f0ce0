using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;

namespace SovereignInference.Tests.Grammar;

public sealed class JsonSchemaGrammarTests
{
    [Fact]
    public void Object_with_required_and_optional_properties()
    {
        var spec = JsonSchemaGrammar.FromSchema("""
            {"type":"object","properties":{"name":{"type":"string","maxLength":5},"age":{"type":"integer"}},
             "required":["name"],"additionalProperties":false}
            """);

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
    }

    [Fact]
    public void Optional_properties_only_allow_any_ordered_subset()
    {
        var spec = JsonSchemaGrammar.FromSchema("""{"properties":{"a":{"type":"null"},"b":{"type":"boolean"}}}""");

        Assert.StartsWith(
            """root ::= "{" space (root-a-kv ("," space root-b-kv)? | root-b-kv)? "}" space""" + "\n",
            spec.Gbnf,
            StringComparison.Ordinal);
        GbnfValidator.Validate(spec);
    }

    [Fact]
    public void String_enum()
    {
        var spec = JsonSchemaGrammar.FromSchema("""{"enum":["a","b\"c"]}""");

        Assert.Equal("root ::= (\"\\\"a\\\"\" | \"\\\"b\\\\\\\"c\\\"\") space\nspace ::= | \" \"\n", spec.Gbnf);
        GbnfValidator.Validate(spec);
    }

    [Fact]
    public void Array_with_item_bounds()
    {
        var spec = JsonSchemaGrammar.FromSchema("""{"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":3}""");

        Assert.Equal(
            """
            root ::= "[" space boolean ("," space boolean){0,2} "]" space
            boolean ::= ("true" | "false") space
            space ::= | " "

            """.ReplaceLineEndings("\n"),
            spec.Gbnf);
        GbnfValidator.Validate(spec);
    }

    [Fact]
    public void AnyOf_with_a_ref_to_defs()
    {
        var spec = JsonSchemaGrammar.FromSchema("""
            {"$defs":{"pt":{"type":"object","properties":{"x":{"type":"number"}},"required":["x"]}},
             "anyOf":[{"$ref":"#/$defs/pt"},{"type":"null"}]}
            """);

        Assert.Equal(
            """
            root ::= ref-pt | null
            decimal-part ::= [0-9]{1,16}
            integral-part ::= [0] | [1-9] [0-9]{0,15}
            null ::= "null" space
            number ::= "-"? integral-part ("." decimal-part)? ([eE] [-+]? integral-part)? space
            ref-pt ::= "{" space ref-pt-x-kv "}" space
            ref-pt-x-kv ::= "\"x\"" space ":" space number
            space ::= | " "

            """.ReplaceLineEndings("\n"),
            spec.Gbnf);
        GbnfValidator.Validate(spec);
    }

    [Fact]
    public void Recursive_definitions_make_a_valid_grammar()
    {
        var spec = JsonSchemaGrammar.FromSchema("""
            {"definitions":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/definitions/node"},{"type":"null"}]}},
             "required":["v","next"],"additionalProperties":false}},"$ref":"#/definitions/node"}
            """);

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
    }

    [Fact]
    public void Json_object_is_any_object()
    {
        var spec = JsonSchemaGrammar.JsonObject();

        Assert.StartsWith("root ::= object\n", spec.Gbnf, StringComparison.Ordinal);
        Assert.Contains("value ::= object | array | string | number | boolean | null\n", spec.Gbnf, StringComparison.Ordinal);
        GbnfValidator.Validate(spec);
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
