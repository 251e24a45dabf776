using System.Globalization;
using System.Text.Json;

namespace Dsl.Tests.Fixtures;

/// <summary>One case of a <see cref="FixtureFile"/>: hyper-parameters, inputs, and PyTorch's outputs and gradients.</summary>
public sealed class FixtureCase
{
    private readonly Dictionary<string, JsonElement> _attrs;
    private readonly Dictionary<string, FixtureTensor> _inputs;
    private readonly Dictionary<string, FixtureTensor> _expected;

    private FixtureCase(string file, string name, Dictionary<string, JsonElement> attrs,
        Dictionary<string, FixtureTensor> inputs, Dictionary<string, FixtureTensor> expected)
    {
        File = file;
        Name = name;
        _attrs = attrs;
        _inputs = inputs;
        _expected = expected;
    }

    /// <summary>The file the case came from.</summary>
    public string File { get; }

    /// <summary>The case name, unique within its file.</summary>
    public string Name { get; }

    /// <summary>An integer attribute.</summary>
    public int Int(string name) => Attr(name).GetInt32();

    /// <summary>A numeric attribute.</summary>
    public double Double(string name) => Attr(name).GetDouble();

    /// <summary>A numeric attribute as float32 (what the kernels take).</summary>
    public float Float(string name) => (float)Attr(name).GetDouble();

    /// <summary>An attribute holding a list of integers (a shape, split sizes).</summary>
    public int[] Ints(string name) => Attr(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>Whether the case has an attribute called <paramref name="name"/>.</summary>
    public bool HasAttr(string name) => _attrs.ContainsKey(name);

    /// <summary>A boolean attribute.</summary>
    public bool Bool(string name) => Attr(name).GetBoolean();

    /// <summary>A string attribute.</summary>
    public string String(string name) => Attr(name).GetString() ?? "";

    /// <summary>Whether the case has an input called <paramref name="name"/>.</summary>
    public bool HasInput(string name) => _inputs.ContainsKey(name);

    /// <summary>Whether the case has an expected tensor called <paramref name="name"/>.</summary>
    public bool HasExpected(string name) => _expected.ContainsKey(name);

    /// <summary>The input called <paramref name="name"/>.</summary>
    public FixtureTensor Input(string name) => Get(_inputs, name, "input");

    /// <summary>PyTorch's value for <paramref name="name"/>.</summary>
    public FixtureTensor Expected(string name) => Get(_expected, name, "expected tensor");

    public override string ToString() => $"{File}:{Name}";

    internal static FixtureCase Parse(string file, JsonElement c)
    {
        string name = c.GetProperty("name").GetString() ?? "";
        var attrs = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in c.GetProperty("attrs").EnumerateObject())
        {
            attrs[p.Name] = p.Value.Clone();
        }
        return new FixtureCase(file, name, attrs, Tensors(c.GetProperty("inputs")), Tensors(c.GetProperty("expected")));
    }

    private static Dictionary<string, FixtureTensor> Tensors(JsonElement obj)
    {
        var result = new Dictionary<string, FixtureTensor>(StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            result[p.Name] = FixtureTensor.Parse(p.Name, p.Value);
        }
        return result;
    }

    private JsonElement Attr(string name)
        => _attrs.TryGetValue(name, out var v) ? v
            : throw new KeyNotFoundException($"{this} has no attribute '{name}' (it has {string.Join(", ", _attrs.Keys)}).");

    private FixtureTensor Get(Dictionary<string, FixtureTensor> map, string name, string what)
        => map.TryGetValue(name, out var t) ? t
            : throw new KeyNotFoundException(string.Create(CultureInfo.InvariantCulture,
                $"{this} has no {what} '{name}' (it has {string.Join(", ", map.Keys)})."));
}
