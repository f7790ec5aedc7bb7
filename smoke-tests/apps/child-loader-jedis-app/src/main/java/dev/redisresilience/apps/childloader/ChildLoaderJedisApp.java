package dev.redisresilience.apps.childloader;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads Jedis from a URLClassLoader of its own (parent: the platform loader, so Jedis is visible
 * neither to the app loader nor to the system loader) and drives it through reflection: SET, GET,
 * INCR, INCR on a Jedis from a JedisPool. Run with only this app's classes on the class path. Args:
 * redis port, the Jedis class path (the jars, path-separated). A failed INCR prints
 * {@code incr=FAIL <exception class>} and the app goes on, as a service would.
 */
public final class ChildLoaderJedisApp {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    List<URL> urls = new ArrayList<>();
    for (String p : args[1].split(File.pathSeparator)) {
      urls.add(new File(p).toURI().toURL());
    }
    try (URLClassLoader loader =
        new URLClassLoader("jedis-child", urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader())) {
      Class<?> poolClass = Class.forName("redis.clients.jedis.JedisPool", true, loader);
      System.out.println("RESULT loader=" + poolClass.getClassLoader().getName());
      System.out.println("RESULT on-app-path=" + onAppPath());
      Object pool = poolClass.getConstructor(String.class, int.class).newInstance("127.0.0.1", port);
      try {
        Object jedis = poolClass.getMethod("getResource").invoke(pool);
        Class<?> jedisClass = jedis.getClass();
        Method set = jedisClass.getMethod("set", String.class, String.class);
        Method get = jedisClass.getMethod("get", String.class);
        Method incr = jedisClass.getMethod("incr", String.class);
        System.out.println("RESULT set=" + set.invoke(jedis, "child:key", "v"));
        System.out.println("RESULT get=" + get.invoke(jedis, "child:key"));
        System.out.println("RESULT incr=" + call(incr, jedis, "child:counter"));
        System.out.println("RESULT incr=" + call(incr, jedis, "child:counter"));
        jedisClass.getMethod("close").invoke(jedis); // back to the pool
      } finally {
        poolClass.getMethod("close").invoke(pool);
      }
    }
    System.out.println("RESULT done");
  }

  /** The method's result, or FAIL and the class of what it threw. */
  private static Object call(Method m, Object target, Object... args) throws IllegalAccessException {
    try {
      return m.invoke(target, args);
    } catch (java.lang.reflect.InvocationTargetException e) {
      return "FAIL " + e.getCause().getClass().getName();
    }
  }

  private static boolean onAppPath() {
    try {
      Class.forName("redis.clients.jedis.JedisPool", false, ChildLoaderJedisApp.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
