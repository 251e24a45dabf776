using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dsl.Data.Text;

/// <summary>
/// Token ids: <c>&lt;pad&gt;</c> = 0, <c>&lt;unk&gt;</c> = 1, then <c>&lt;bos&gt;</c> = 2 and <c>&lt;eos&gt;</c> = 3 when
/// asked for, then the tokens by falling frequency (ties in ordinal order, as torchtext's
/// <c>build_vocab_from_iterator</c> sorts them). Built from training text only; a token it does not hold encodes
/// as <c>&lt;unk&gt;</c>. Saved as a small JSON file, validated on load.
/// </summary>
public sealed class Vocabulary
{
    public const string Pad = "<pad>";
    public const string Unk = "<unk>";
    public const string Bos = "<bos>";
    public const string Eos = "<eos>";
    public const int PadId = 0;
    public const int UnkId = 1;

    private const string FormatName = "dsl-vocabulary";
    private const int FormatVersion = 1;

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private Vocabulary(string tokenizerName, string[] tokens, bool hasBosEos)
    {
        TokenizerName = tokenizerName;
        _tokens = tokens;
        HasBosEos = hasBosEos;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
        {
            if (string.IsNullOrEmpty(tokens[i]))
            {
                throw new ArgumentException($"Token {i} is empty.");
            }
            if (!_ids.TryAdd(tokens[i], i))
            {
                throw new ArgumentException($"Token \"{tokens[i]}\" appears twice (ids {_ids[tokens[i]]} and {i}).");
            }
        }
    }

    /// <summary>The tokenizer this vocabulary was built with (<see cref="ITokenizer.Name"/>).</summary>
    public string TokenizerName { get; }

    /// <summary>True when <c>&lt;bos&gt;</c> (id 2) and <c>&lt;eos&gt;</c> (id 3) are present.</summary>
    public bool HasBosEos { get; }

    /// <summary>Number of ids, specials included.</summary>
    public int Count => _tokens.Length;

    /// <summary>Number of special tokens at the front (2, or 4 with <c>&lt;bos&gt;</c>/<c>&lt;eos&gt;</c>).</summary>
    public int SpecialCount => HasBosEos ? 4 : 2;

    /// <summary>The id of <c>&lt;bos&gt;</c>.</summary>
    public int BosId => HasBosEos ? 2 : throw new InvalidOperationException("This vocabulary has no <bos>; build it with bosEos: true.");

    /// <summary>The id of <c>&lt;eos&gt;</c>.</summary>
    public int EosId => HasBosEos ? 3 : throw new InvalidOperationException("This vocabulary has no <eos>; build it with bosEos: true.");

    /// <summary>The tokens by id.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The id of <paramref name="token"/>, or <see cref="UnkId"/>.</summary>
    public int this[string token] => _ids.TryGetValue(token, out int id) ? id : UnkId;

    /// <summary>The token of <paramref name="id"/>.</summary>
    public string this[int id] => (uint)id < (uint)_tokens.Length
        ? _tokens[id]
        : throw new ArgumentOutOfRangeException(nameof(id), $"Id {id} is outside the vocabulary's {_tokens.Length} ids.");

    /// <summary>True when <paramref name="token"/> has an id of its own.</summary>
    public bool Contains(string token) => _ids.ContainsKey(token);

    /// <summary>
    /// Counts the tokens of <paramref name="texts"/> (training text only) and keeps those seen at least
    /// <paramref name="minFrequency"/> times, the most frequent first, at most <paramref name="maxSize"/> ids in all
    /// (specials included, as torchtext's <c>max_tokens</c>).
    /// </summary>
    public static Vocabulary Build(IEnumerable<string> texts, ITokenizer tokenizer, int minFrequency = 1, int? maxSize = null, bool bosEos = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (minFrequency < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minFrequency), $"The minimum frequency must be at least 1, got {minFrequency}.");
        }
        int specials = bosEos ? 4 : 2;
        if (maxSize is { } max && max < specials)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSize), $"A vocabulary holds at least its {specials} special tokens; maxSize {max} is too small.");
        }
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var tokens = new List<string>();
        foreach (string text in texts)
        {
            tokens.Clear();
            tokenizer.Tokenize(text, tokens);
            foreach (string token in tokens)
            {
                counts[token] = counts.GetValueOrDefault(token) + 1;
            }
        }
        var kept = counts.Where(kv => kv.Value >= minFrequency && !IsSpecial(kv.Key))
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key);
        if (maxSize is { } limit)
        {
            kept = kept.Take(limit - specials);
        }
        return new Vocabulary(tokenizer.Name, [.. SpecialTokens(bosEos), .. kept], bosEos);
    }

    /// <summary>A vocabulary of a fixed alphabet (the specials, then <paramref name="tokens"/> in the order given).</summary>
    public static Vocabulary FromTokens(IEnumerable<string> tokens, string tokenizerName, bool bosEos = false)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentException.ThrowIfNullOrEmpty(tokenizerName);
        var list = tokens.ToList();
        var special = list.FirstOrDefault(IsSpecial);
        if (special is not null)
        {
            throw new ArgumentException($"The special token {special} is added by the vocabulary; leave it out of the alphabet.", nameof(tokens));
        }
        return new Vocabulary(tokenizerName, [.. SpecialTokens(bosEos), .. list], bosEos);
    }

    /// <summary>Appends the ids of <paramref name="tokens"/> to <paramref name="destination"/>.</summary>
    public void Encode(IEnumerable<string> tokens, List<int> destination)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(destination);
        foreach (string token in tokens)
        {
            destination.Add(this[token]);
        }
    }

    /// <summary>
    /// The ids of <paramref name="text"/> under <paramref name="tokenizer"/> (which must be the one the vocabulary
    /// was built with), framed by <c>&lt;bos&gt;</c> and <c>&lt;eos&gt;</c> when <paramref name="addBosEos"/>.
    /// </summary>
    public int[] Encode(string text, ITokenizer tokenizer, bool addBosEos = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer.Name != TokenizerName)
        {
            throw new ArgumentException($"This vocabulary was built with the {TokenizerName} tokenizer, not {tokenizer.Name}.", nameof(tokenizer));
        }
        var tokens = new List<string>();
        tokenizer.Tokenize(text, tokens);
        var ids = new List<int>(tokens.Count + 2);
        if (addBosEos)
        {
            ids.Add(BosId);
        }
        Encode(tokens, ids);
        if (addBosEos)
        {
            ids.Add(EosId);
        }
        return ids.ToArray();
    }

    /// <summary>
    /// The tokens of <paramref name="ids"/>, leaving out <c>&lt;pad&gt;</c> and <c>&lt;bos&gt;</c> and stopping at the
    /// first <c>&lt;eos&gt;</c> (a decoder's output), joined by <paramref name="tokenizer"/>.
    /// </summary>
    public string Decode(ReadOnlySpan<long> ids, ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var tokens = new List<string>(ids.Length);
        foreach (long id in ids)
        {
            if (id < 0 || id >= _tokens.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), $"Id {id} is outside the vocabulary's {_tokens.Length} ids.");
            }
            if (HasBosEos && id == EosId)
            {
                break;
            }
            if (id == PadId || (HasBosEos && id == BosId))
            {
                continue;
            }
            tokens.Add(_tokens[id]);
        }
        return tokenizer.Detokenize(tokens);
    }

    /// <inheritdoc cref="Decode(ReadOnlySpan{long}, ITokenizer)"/>
    public string Decode(ReadOnlySpan<int> ids, ITokenizer tokenizer)
    {
        var wide = new long[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            wide[i] = ids[i];
        }
        return Decode(wide, tokenizer);
    }

    /// <summary>Writes the vocabulary as JSON (format name, version, tokenizer, tokens by id), replacing the file atomically.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var json = new JsonObject
        {
            ["format"] = FormatName,
            ["version"] = FormatVersion,
            ["tokenizer"] = TokenizerName,
            ["bos_eos"] = HasBosEos,
            ["tokens"] = new JsonArray(_tokens.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
        };
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a file written by <see cref="Save"/>, checking every field before building anything.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid vocabulary; the message says what is wrong.</exception>
    public static Vocabulary Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a JSON vocabulary ({e.Message}).", e);
        }
        if (root is not JsonObject obj)
        {
            throw Invalid(path, "the top level must be a JSON object");
        }
        if (Text(obj, "format") != FormatName)
        {
            throw Invalid(path, $"\"format\" must be \"{FormatName}\"");
        }
        if (obj["version"] is not JsonValue version || !version.TryGetValue(out int v) || v != FormatVersion)
        {
            throw Invalid(path, $"\"version\" must be {FormatVersion}");
        }
        string? tokenizer = Text(obj, "tokenizer");
        if (string.IsNullOrEmpty(tokenizer))
        {
            throw Invalid(path, "\"tokenizer\" must name the tokenizer");
        }
        if (obj["bos_eos"] is not JsonValue flag || !flag.TryGetValue(out bool bosEos))
        {
            throw Invalid(path, "\"bos_eos\" must be true or false");
        }
        if (obj["tokens"] is not JsonArray array)
        {
            throw Invalid(path, "\"tokens\" must be an array of strings");
        }
        var tokens = new string[array.Count];
        for (int i = 0; i < tokens.Length; i++)
        {
            if (array[i] is not JsonValue value || !value.TryGetValue(out string? token) || string.IsNullOrEmpty(token))
            {
                throw Invalid(path, $"token {i} must be a non-empty string");
            }
            tokens[i] = token;
        }
        var specials = SpecialTokens(bosEos);
        for (int i = 0; i < specials.Length; i++)
        {
            if (i >= tokens.Length || tokens[i] != specials[i])
            {
                throw Invalid(path, $"id {i} must be {specials[i]}");
            }
        }
        for (int i = specials.Length; i < tokens.Length; i++)
        {
            if (IsSpecial(tokens[i]))
            {
                throw Invalid(path, $"the special token {tokens[i]} appears again at id {i}");
            }
        }
        try
        {
            return new Vocabulary(tokenizer, tokens, bosEos);
        }
        catch (ArgumentException e)
        {
            throw Invalid(path, e.Message.TrimEnd('.'));
        }
    }

    private static string? Text(JsonObject obj, string name)
        => obj[name] is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    private static InvalidDataException Invalid(string path, string reason) => new($"{path}: invalid vocabulary: {reason}.");

    private static string[] SpecialTokens(bool bosEos) => bosEos ? [Pad, Unk, Bos, Eos] : [Pad, Unk];

    private static bool IsSpecial(string token) => token is Pad or Unk or Bos or Eos;
}
