using System.Security.Cryptography;
using System.Text;

namespace Zhongtai.Gateway;

/// <summary>
/// Seals app secrets at rest with AES-256-GCM under a master key kept apart from the metadata store.
/// The server must hold each secret (HMAC request signing needs the key), so a one-way hash is not enough;
/// sealing means a copy of <c>meta.db</c> alone reveals no secret.
/// </summary>
public sealed class SecretSealer
{
    private readonly byte[] _key;

    public SecretSealer(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("The master key must be 32 bytes.", nameof(key));
        }

        _key = key;
    }

    /// <summary>The configured key, or the one in <paramref name="keyFile"/> (created on first use with mode 600).</summary>
    public static SecretSealer Create(GatewayOptions options, string keyFile)
    {
        if (!string.IsNullOrEmpty(options.MasterKey))
        {
            return new SecretSealer(Convert.FromBase64String(options.MasterKey));
        }

        if (!File.Exists(keyFile))
        {
            var key = RandomNumberGenerator.GetBytes(32);
            var tmp = keyFile + ".tmp";
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
            {
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }

                fs.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key)));
                fs.Flush(flushToDisk: true);
            }

            File.Move(tmp, keyFile);
        }

        return new SecretSealer(Convert.FromBase64String(File.ReadAllText(keyFile).Trim()));
    }

    public byte[] Seal(string secret, string appKey)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var result = new byte[12 + 16 + plain.Length];
        var nonce = result.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, 16);
        aes.Encrypt(nonce, plain, result.AsSpan(28), result.AsSpan(12, 16), Encoding.UTF8.GetBytes(appKey));
        return result;
    }

    public string Unseal(byte[] sealedSecret, string appKey)
    {
        var plain = new byte[sealedSecret.Length - 28];
        using var aes = new AesGcm(_key, 16);
        aes.Decrypt(sealedSecret.AsSpan(0, 12), sealedSecret.AsSpan(28), sealedSecret.AsSpan(12, 16), plain, Encoding.UTF8.GetBytes(appKey));
        return Encoding.UTF8.GetString(plain);
    }
}
