// JavaProbe connects to a TLS server once per line of standard input
// ("SERVER-NAME<TAB>KEYSTORE"), trusting only that keystore (loaded as
// Java loads a trust store without a password), with HTTPS endpoint
// identification, and prints "ok" or "refused: " and the failure.
// truststore's TestStacksAgainstRealClients runs it: java JavaProbe.java HOST PORT.
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.Socket;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class JavaProbe {
    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t");
            try {
                KeyStore ks = KeyStore.getInstance(new File(f[1]), (char[]) null);
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(ks);
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, tmf.getTrustManagers(), null);
                Socket raw = new Socket(host, port);
                raw.setSoTimeout(10000);
                // Layered on a connected socket, so that the peer host
                // Java identifies is the server name, not the address.
                SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, f[0], port, true);
                SSLParameters p = s.getSSLParameters();
                p.setServerNames(List.of(new SNIHostName(f[0])));
                p.setEndpointIdentificationAlgorithm("HTTPS");
                s.setSSLParameters(p);
                s.startHandshake();
                s.close();
                System.out.println("ok");
            } catch (Exception e) {
                StringBuilder b = new StringBuilder();
                for (Throwable t = e; t != null; t = t.getCause()) {
                    b.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append(" / ");
                }
                System.out.println("refused: " + b.toString().replace('\n', ' '));
            }
        }
    }
}
