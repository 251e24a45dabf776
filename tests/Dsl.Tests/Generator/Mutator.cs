using System.Globalization;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dsl.Tests.Generator;

/// <summary>A network file changed by one or two seeded mutations: what the fuzz test feeds the generator.</summary>
internal sealed record Mutant(int Seed, string File, string Original, string Text, IReadOnlyList<string> Mutations)
{
    /// <summary>The changed lines, <c>-</c> before and <c>+</c> after (at most 40), for a failure message.</summary>
    public string Diff()
    {
        var sb = new StringBuilder();
        int shown = 0;
        foreach (var line in InlineDiffBuilder.Diff(Original, Text).Lines)
        {
            if (line.Type is ChangeType.Inserted or ChangeType.Deleted && shown++ < 40)
            {
                sb.Append(line.Type == ChangeType.Inserted ? "+ " : "- ").AppendLine(line.Text);
            }
        }
        return shown > 40 ? sb.AppendLine($"... {shown - 40} more changed lines").ToString() : sb.ToString();
    }
}

/// <summary>
/// Seeded mutations of real network files, of the kinds a user makes while typing or that stress the generator's
/// assumptions: extreme and overflowing numbers, NaN and infinities, deleted, repeated and swapped pipe stages, missing
/// and extra arguments, odd strings, half-typed files, duplicated blocks, and members named like generated ones.
/// The same seed gives the same mutant, so a failure is reproduced from the seed alone.
/// </summary>
internal static class Mutator
{
    private delegate string? Mutation(string text, SyntaxNode root, Random rng, out string description);

    private static readonly (string Name, Mutation Apply)[] Mutations =
    {
        ("int literal", IntLiteral),
        ("number", NumberLiteral),
        ("delete stage", DeleteStage),
        ("duplicate stage", DuplicateStage),
        ("swap stages", SwapStages),
        ("drop argument", DropArgument),
        ("add argument", AddArgument),
        ("string", StringValue),
        ("insert characters", InsertCharacters),
        ("truncate", Truncate),
        ("duplicate method", DuplicateMethod),
        ("rename block", RenameBlock),
        ("add member", AddMember),
        ("case twin", CaseTwin),
        ("swap layer", SwapLayer),
        ("class shape", ClassShape),
    };

    private static readonly string[] IntReplacements =
    {
        "0", "-1", "1", "2", "3", "7", "65536", "2147483647", "int.MaxValue", "int.MinValue", "-2147483648",
        "unchecked(int.MaxValue + 2)", "int.MaxValue + 1", "1 << 30", "46341", "100000", "(int.MaxValue / 2 + 1)",
    };

    private static readonly string[] NumberReplacements =
    {
        "double.NaN", "double.PositiveInfinity", "double.NegativeInfinity", "-0.5", "1e308", "1.5", "0", "1", "float.NaN",
        "double.Epsilon", "-0.0", "1e-45", "2147483648.0",
    };

    private static readonly string[] Strings =
    {
        "\"\"", "\"a\\\"b\"", "\"line\\nbreak\"", "\"tab\\there\"", "\"\\u00fc\\u540d\"", "\"ü名\"", "\"fc1\"", "\"weight\"",
        "\"a.b\"", "\"{0}\"", "\"\\\\\"", "\"*/\"", "@\"x\"\"y\"", "\"same\"", "\"conv1\"", "\"bn1\"", "\" \"", "\"1x\"",
        "\"Summary\"", "\"h0_input\"", "\"\\0\"", "\"\\uD800\"",
    };

    private static readonly string[] ExtraArguments =
    {
        "3", "0", "-2", "name: \"x\"", "name: \"fc1\"", "name: \"\"", "bias: false", "stride: 2", "padding: 1", "kernel: 3",
        "0.5", "Relu", "groups: 3", "dilation: 2", "padding: \"same\"", "int.MaxValue", "double.NaN", "Linear(2)",
    };

    private static readonly string[] GeneratedNames =
    {
        "Summary", "Forward", "Backward", "InputShape", "OutputShape", "NetworkName", "Parameters", "ZeroGrad", "Train", "Eval",
        "AddParameter", "AddBuffer", "ParameterSeed", "Define", "_fc1_weight", "h0_input", "_input", "s_inputShape", "Input",
        "Linear", "Relu", "Module", "Device",
    };

    private static readonly string[] LayerNames =
    {
        "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d", "Dropout", "Dropout2d", "Flatten", "Relu", "Tanh", "Identity",
        "GlobalAvgPool2d", "Residual", "Concat", "Repeat", "AdaptiveAvgPool2d", "Softmax", "LogSoftmax", "Gelu", "Input",
        "LeakyRelu(double.NaN)", "Elu(double.PositiveInfinity)", "LeakyRelu(-1e300)", "Dropout(double.NaN)", "Linear(int.MaxValue)",
        "Concat(Identity, Identity)", "Residual(Identity)", "Repeat(0, Relu)", "Repeat(100000, Identity)",
    };

    private static readonly string[] Insertions = { "\"", "\n", "é", "\u2028", "{", "}", "|", "(", ")", ";", "//", "/*", ",", "+", "@", "\\", "'" };

    /// <summary>The mutant for <paramref name="seed"/>: one of <paramref name="files"/>, changed once or (one time in three) twice.</summary>
    public static Mutant Make(IReadOnlyList<(string File, string Text)> files, int seed)
    {
        var rng = new Random(seed);
        var (file, original) = files[rng.Next(files.Count)];
        string text = original;
        var applied = new List<string>();
        int count = rng.Next(3) == 0 ? 2 : 1;
        for (int attempt = 0; applied.Count < count && attempt < 20; attempt++)
        {
            var (name, apply) = Mutations[rng.Next(Mutations.Length)];
            var root = CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions).GetRoot();
            if (apply(text, root, rng, out string description) is { } changed && changed != text)
            {
                text = changed;
                applied.Add($"{name}: {description}");
            }
        }
        return new Mutant(seed, file, original, text, applied);
    }

    private static T? Pick<T>(IEnumerable<T> items, Random rng) where T : class
    {
        var list = items.ToList();
        return list.Count == 0 ? null : list[rng.Next(list.Count)];
    }

    private static string Pick(string[] items, Random rng) => items[rng.Next(items.Length)];

    private static string Replace(string text, Microsoft.CodeAnalysis.Text.TextSpan span, string with)
        => text.Substring(0, span.Start) + with + text.Substring(span.End);

    private static string Line(string text, int position)
        => (text.Take(position).Count(c => c == '\n') + 1).ToString(CultureInfo.InvariantCulture);

    private static string? IntLiteral(string text, SyntaxNode root, Random rng, out string description)
    {
        var literal = Pick(root.DescendantNodes().OfType<LiteralExpressionSyntax>().Where(l => l.Token.Value is int), rng);
        string with = Pick(IntReplacements, rng);
        description = literal is null ? "" : $"'{literal}' -> '{with}' on line {Line(text, literal.SpanStart)}";
        return literal is null ? null : Replace(text, literal.Span, with);
    }

    private static string? NumberLiteral(string text, SyntaxNode root, Random rng, out string description)
    {
        var literal = Pick(root.DescendantNodes().OfType<LiteralExpressionSyntax>().Where(l => l.IsKind(SyntaxKind.NumericLiteralExpression)), rng);
        string with = Pick(NumberReplacements, rng);
        description = literal is null ? "" : $"'{literal}' -> '{with}' on line {Line(text, literal.SpanStart)}";
        return literal is null ? null : Replace(text, literal.Span, with);
    }

    private static IEnumerable<BinaryExpressionSyntax> Pipes(SyntaxNode root)
        => root.DescendantNodes().OfType<BinaryExpressionSyntax>().Where(b => b.IsKind(SyntaxKind.BitwiseOrExpression));

    private static string? DeleteStage(string text, SyntaxNode root, Random rng, out string description)
    {
        var pipe = Pick(Pipes(root), rng);
        description = pipe is null ? "" : $"removed '| {pipe.Right}' on line {Line(text, pipe.SpanStart)}";
        return pipe is null ? null : Replace(text, Microsoft.CodeAnalysis.Text.TextSpan.FromBounds(pipe.OperatorToken.SpanStart, pipe.Right.Span.End), "");
    }

    private static string? DuplicateStage(string text, SyntaxNode root, Random rng, out string description)
    {
        var pipe = Pick(Pipes(root), rng);
        description = pipe is null ? "" : $"repeated '| {pipe.Right}' on line {Line(text, pipe.SpanStart)}";
        return pipe is null ? null : text.Insert(pipe.Right.Span.End, " | " + pipe.Right);
    }

    private static string? SwapStages(string text, SyntaxNode root, Random rng, out string description)
    {
        var pipe = Pick(Pipes(root).Where(p => p.Left is BinaryExpressionSyntax l && l.IsKind(SyntaxKind.BitwiseOrExpression)), rng);
        description = "";
        if (pipe is null)
        {
            return null;
        }
        var first = ((BinaryExpressionSyntax)pipe.Left).Right;
        var second = pipe.Right;
        description = $"swapped '{first}' and '{second}' on line {Line(text, first.SpanStart)}";
        return Replace(Replace(text, second.Span, first.ToString()), first.Span, second.ToString());
    }

    private static string? DropArgument(string text, SyntaxNode root, Random rng, out string description)
    {
        var list = Pick(root.DescendantNodes().OfType<ArgumentListSyntax>().Where(a => a.Arguments.Count > 0), rng);
        description = "";
        if (list is null)
        {
            return null;
        }
        int drop = rng.Next(list.Arguments.Count);
        description = $"dropped '{list.Arguments[drop]}' on line {Line(text, list.SpanStart)}";
        return Replace(text, list.Span, "(" + string.Join(", ", list.Arguments.Where((_, i) => i != drop)) + ")");
    }

    private static string? AddArgument(string text, SyntaxNode root, Random rng, out string description)
    {
        var list = Pick(root.DescendantNodes().OfType<ArgumentListSyntax>(), rng);
        string extra = Pick(ExtraArguments, rng);
        description = list is null ? "" : $"added '{extra}' to '{list.Parent}' on line {Line(text, list.SpanStart)}";
        return list is null ? null : Replace(text, list.Span, "(" + string.Join(", ", list.Arguments.Select(a => a.ToString()).Append(extra)) + ")");
    }

    /// <summary>Replaces a string literal, or gives a layer a <c>name:</c> when the file has none.</summary>
    private static string? StringValue(string text, SyntaxNode root, Random rng, out string description)
    {
        string with = Pick(Strings, rng);
        var literal = Pick(root.DescendantNodes().OfType<LiteralExpressionSyntax>().Where(l => l.IsKind(SyntaxKind.StringLiteralExpression)), rng);
        if (literal is not null && rng.Next(2) == 0)
        {
            description = $"'{literal}' -> '{with}' on line {Line(text, literal.SpanStart)}";
            return Replace(text, literal.Span, with);
        }
        var call = Pick(root.DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Where(c => c.Expression.ToString() is "Linear" or "Conv2d" or "BatchNorm2d" or "Dropout" or "Dropout2d"), rng);
        description = call is null ? "" : $"named '{call}' {with} on line {Line(text, call.SpanStart)}";
        return call is null ? null : Replace(text, call.ArgumentList.Span,
            "(" + string.Join(", ", call.ArgumentList.Arguments.Select(a => a.ToString()).Append("name: " + with)) + ")");
    }

    private static string? InsertCharacters(string text, SyntaxNode root, Random rng, out string description)
    {
        int at = rng.Next(text.Length + 1);
        string what = Pick(Insertions, rng);
        description = $"inserted {SymbolDisplay.FormatLiteral(what, quote: true)} on line {Line(text, at)}";
        return text.Insert(at, what);
    }

    private static string? Truncate(string text, SyntaxNode root, Random rng, out string description)
    {
        int at = rng.Next(text.Length);
        description = $"cut after character {at} (line {Line(text, at)})";
        return text.Substring(0, at);
    }

    private static string? DuplicateMethod(string text, SyntaxNode root, Random rng, out string description)
    {
        var method = Pick(root.DescendantNodes().OfType<MethodDeclarationSyntax>(), rng);
        description = method is null ? "" : $"repeated method '{method.Identifier}' on line {Line(text, method.SpanStart)}";
        return method is null ? null : text.Insert(method.FullSpan.End, "\n" + method.ToFullString());
    }

    /// <summary>Renames a method and every use of its name to a name the generator or the runtime uses.</summary>
    private static string? RenameBlock(string text, SyntaxNode root, Random rng, out string description)
    {
        var method = Pick(root.DescendantNodes().OfType<MethodDeclarationSyntax>(), rng);
        string to = Pick(GeneratedNames, rng);
        description = "";
        if (method is null)
        {
            return null;
        }
        string from = method.Identifier.ValueText;
        description = $"renamed '{from}' to '{to}'";
        var spans = root.DescendantTokens()
            .Where(t => t.IsKind(SyntaxKind.IdentifierToken) && t.ValueText == from && (t == method.Identifier || t.Parent is IdentifierNameSyntax))
            .Select(t => t.Span)
            .OrderByDescending(s => s.Start);
        foreach (var span in spans)
        {
            text = Replace(text, span, to);
        }
        return text;
    }

    private static string? AddMember(string text, SyntaxNode root, Random rng, out string description)
    {
        var type = Pick(root.DescendantNodes().OfType<ClassDeclarationSyntax>(), rng);
        description = "";
        if (type is null)
        {
            return null;
        }
        string name = type.Identifier.ValueText;
        string[] members =
        {
            "static int InputShape;", $"public {name}(Device device, int seed) : base(device, seed) {{ }}", "private int _fc1_weight;",
            "static Layer Summary() => Relu;", "public override Tensor Forward(Tensor x) => x;", "int _input;", "static string Summary = \"\";",
            $"public {name}() : base(Device.Cpu, 0) {{ }}", "static Net Define() => Input(1);", "const int Huge = 2147483647;",
            "static Layer Block(int, int) => Linear(2);", "static Layer Block(int a, int a) => Linear(a);", "private int _h0_input;",
            "public string NetworkName => \"x\";", "class Summary { }", "event System.Action? Forward;", "static Layer Wide(int k) => Linear(int.MaxValue + k);",
        };
        string member = Pick(members, rng);
        description = $"added '{member}' to '{name}'";
        return text.Insert(type.OpenBraceToken.Span.End, "\n    " + member + "\n");
    }

    /// <summary>Appends a copy of a network class whose name differs only in case (or a second part repeating <c>[Network]</c>).</summary>
    private static string? CaseTwin(string text, SyntaxNode root, Random rng, out string description)
    {
        var type = Pick(root.DescendantNodes().OfType<ClassDeclarationSyntax>(), rng);
        description = "";
        if (type is null)
        {
            return null;
        }
        string name = type.Identifier.ValueText;
        if (rng.Next(3) == 0)
        {
            description = $"second part of '{name}' with [Network]";
            return text + $"\n[Network]\npublic partial class {name} {{ }}\n";
        }
        string twin = name.ToUpperInvariant() == name ? name.ToLowerInvariant() : name.ToUpperInvariant();
        description = $"appended a copy named '{twin}'";
        return text + "\n" + type.ToFullString().Replace(name, twin, StringComparison.Ordinal);
    }

    private static string? SwapLayer(string text, SyntaxNode root, Random rng, out string description)
    {
        var id = Pick(root.DescendantNodes().OfType<IdentifierNameSyntax>().Where(i => LayerNames.Contains(i.Identifier.ValueText)
            || i.Parent is ArgumentSyntax or BinaryExpressionSyntax && char.IsUpper(i.Identifier.ValueText[0])), rng);
        string to = Pick(LayerNames, rng);
        description = id is null ? "" : $"'{id}' -> '{to}' on line {Line(text, id.SpanStart)}";
        return id is null ? null : Replace(text, id.Span, to);
    }

    /// <summary>A record, a primary constructor, a missing <c>partial</c>, a generic or nested class.</summary>
    private static string? ClassShape(string text, SyntaxNode root, Random rng, out string description)
    {
        var type = Pick(root.DescendantNodes().OfType<ClassDeclarationSyntax>(), rng);
        description = "";
        if (type is null)
        {
            return null;
        }
        var span = Microsoft.CodeAnalysis.Text.TextSpan.FromBounds(type.Modifiers.Count > 0 ? type.Modifiers.First().SpanStart : type.Keyword.SpanStart, type.Identifier.Span.End);
        string name = type.Identifier.ValueText;
        string[] shapes =
        {
            $"public partial record {name}", $"public partial class {name}(int width)", $"public class {name}", $"public partial class {name}<T>",
            $"public static partial class {name}", $"public abstract partial class {name}", $"internal partial class {name}",
            $"public sealed partial class {name}", $"public partial class {name} : System.Object",
        };
        string with = Pick(shapes, rng);
        description = $"declared as '{with}'";
        return Replace(text, span, with);
    }
}
