using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dsl.Generator.Model;

namespace Dsl.Generator.Shapes;

/// <summary>A layer call's arguments after block parameters were substituted: every value is a constant.</summary>
internal sealed class LayerArgs
{
    private readonly Dictionary<string, ArgValue> _values;

    public LayerArgs(IEnumerable<ArgValue> values) => _values = values.ToDictionary(v => v.Parameter);

    public bool Has(string name) => _values.TryGetValue(name, out var v) && v.Kind != ArgKind.Null;

    /// <summary>True when the user wrote the argument (not a default).</summary>
    public bool Given(string name) => _values.TryGetValue(name, out var v) && v.Explicit;

    public long Int(string name) => _values[name].Kind == ArgKind.Number ? (long)_values[name].Number : _values[name].Int;

    public double Number(string name) => _values[name].Kind == ArgKind.Int ? _values[name].Int : _values[name].Number;

    public bool Bool(string name) => _values[name].Int != 0;

    public string? String(string name) => _values.TryGetValue(name, out var v) && v.Kind == ArgKind.String ? v.Text : null;

    public EquatableArray<int> Ints(string name) => _values[name].Ints;

    public ArgValue Raw(string name) => _values[name];

    public IEnumerable<ArgValue> All => _values.Values;

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
